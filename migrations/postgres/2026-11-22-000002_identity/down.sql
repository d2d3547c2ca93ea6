DROP TABLE refresh_tokens;
DROP TABLE user_cities;
DROP TABLE users;
