-- Places and provider organisations. Iraq's 18 governorates are seeded
-- (ISO 3166-2:IQ codes, fixed ids so every deployment agrees); cities and
-- organisations are created by admins.

CREATE TABLE governorates (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_ar TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE cities (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_ar TEXT NOT NULL,
    governorate_id TEXT NOT NULL REFERENCES governorates (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cities_governorate_id ON cities (governorate_id);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('psychosocial', 'education', 'vocational_training')),
    city_id TEXT NOT NULL REFERENCES cities (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_city_id ON organisations (city_id, kind);

INSERT INTO governorates (id, code, name_en, name_ar, created_at) VALUES
  ('6604e6d3-ea32-531a-86df-3158eb504e7b', 'IQ-AN', 'Al Anbar', 'الأنبار', '2026-01-01 00:00:00'),
  ('ff0fcd09-0f5d-54c4-ba4a-a4f67eb431e3', 'IQ-BA', 'Basra', 'البصرة', '2026-01-01 00:00:00'),
  ('14001e90-d255-5417-b7ab-cf3342314c7a', 'IQ-MU', 'Al Muthanna', 'المثنى', '2026-01-01 00:00:00'),
  ('00493cff-a587-5e5b-a7be-9cbb9d457d97', 'IQ-QA', 'Al-Qadisiyah', 'القادسية', '2026-01-01 00:00:00'),
  ('098bf1a2-f15b-5c80-a510-3849a12c0499', 'IQ-NA', 'Najaf', 'النجف', '2026-01-01 00:00:00'),
  ('3befcdb7-f390-5294-8b10-4ab5c62b83c2', 'IQ-AR', 'Erbil', 'أربيل', '2026-01-01 00:00:00'),
  ('a5d4b85c-5ac4-5651-adec-2306521656b1', 'IQ-SU', 'Sulaymaniyah', 'السليمانية', '2026-01-01 00:00:00'),
  ('f1e38ad0-8cb5-58c6-bed7-6ad8b87069cc', 'IQ-BB', 'Babil', 'بابل', '2026-01-01 00:00:00'),
  ('3bae88c0-1eab-514b-b657-7d130a5efce4', 'IQ-BG', 'Baghdad', 'بغداد', '2026-01-01 00:00:00'),
  ('9b0e2b60-e95e-5e1c-a7da-f5b187e19dfa', 'IQ-DA', 'Duhok', 'دهوك', '2026-01-01 00:00:00'),
  ('1cafc605-b1da-59d5-a083-0acd91ad7fa9', 'IQ-DQ', 'Dhi Qar', 'ذي قار', '2026-01-01 00:00:00'),
  ('0f7c37b6-5e7a-5503-ad22-afa3b0916e16', 'IQ-DI', 'Diyala', 'ديالى', '2026-01-01 00:00:00'),
  ('f54e0963-28ed-525c-8a27-058af6132e22', 'IQ-KA', 'Karbala', 'كربلاء', '2026-01-01 00:00:00'),
  ('8cfab33c-5e87-5196-bf1e-b03000b8b335', 'IQ-KI', 'Kirkuk', 'كركوك', '2026-01-01 00:00:00'),
  ('48662edc-bb4b-574d-a965-d4dfeb7d0140', 'IQ-MA', 'Maysan', 'ميسان', '2026-01-01 00:00:00'),
  ('a9998478-edc5-54ca-95ba-71122b59171f', 'IQ-NI', 'Nineveh', 'نينوى', '2026-01-01 00:00:00'),
  ('f7ca2330-6a71-5cce-a962-696481c87e58', 'IQ-SD', 'Salah ad-Din', 'صلاح الدين', '2026-01-01 00:00:00'),
  ('bd7a7f1e-0078-5d00-b94f-ea791fb313c1', 'IQ-WA', 'Wasit', 'واسط', '2026-01-01 00:00:00');
