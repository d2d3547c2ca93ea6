DROP TABLE case_notes;
DROP TABLE case_search_index;
DROP TABLE cases;
DROP TABLE case_counters;
DROP TABLE households;
DROP TABLE data_keys;
DROP TABLE write_lock;
