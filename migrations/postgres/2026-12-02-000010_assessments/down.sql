DROP INDEX assessments_one_baseline;
DROP INDEX assessments_city;
DROP INDEX assessments_case;
DROP TABLE assessments;
DROP TABLE instruments;
