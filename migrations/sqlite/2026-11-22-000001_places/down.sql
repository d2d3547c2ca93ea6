DROP TABLE organisations;
DROP TABLE cities;
DROP TABLE governorates;
