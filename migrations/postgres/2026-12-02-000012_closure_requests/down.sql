DROP INDEX closure_requests_one_pending;
DROP INDEX closure_requests_city;
DROP INDEX closure_requests_case;
DROP TABLE closure_requests;
