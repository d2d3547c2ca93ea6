DROP INDEX follow_ups_assignee;
DROP INDEX follow_ups_city;
DROP INDEX follow_ups_case;
DROP TABLE follow_ups;
