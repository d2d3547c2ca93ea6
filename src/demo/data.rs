//! The vocabulary of the demo data set: real governorates' cities and
//! districts, common Iraqi names in Arabic script with the spellings people
//! really use, and their usual Latin transliterations. Every person the seed
//! makes up is drawn from these lists; none of it is anyone's real record.

use crate::domain::OrganisationKind;

/// A city or district: its case-number code, names, governorate code (as
/// seeded by the first migration) and a weight, roughly the share of
/// returnees it receives (Nineveh, Anbar and Salah ad-Din most of all).
pub struct Place {
    pub code: &'static str,
    pub name_en: &'static str,
    pub name_ar: &'static str,
    pub governorate: &'static str,
    pub weight: u32,
}

const fn place(
    code: &'static str,
    name_en: &'static str,
    name_ar: &'static str,
    governorate: &'static str,
    weight: u32,
) -> Place {
    Place {
        code,
        name_en,
        name_ar,
        governorate,
        weight,
    }
}

pub const PLACES: &[Place] = &[
    place("MOS", "Mosul", "الموصل", "IQ-NI", 220),
    place("TAF", "Tal Afar", "تلعفر", "IQ-NI", 70),
    place("SIN", "Sinjar", "سنجار", "IQ-NI", 45),
    place("HAM", "Al-Hamdaniya", "الحمدانية", "IQ-NI", 25),
    place("BAJ", "Al-Baaj", "البعاج", "IQ-NI", 30),
    place("QAY", "Al-Qayyarah", "القيارة", "IQ-NI", 30),
    place("HTR", "Al-Hatra", "الحضر", "IQ-NI", 15),
    place("RAM", "Ramadi", "الرمادي", "IQ-AN", 70),
    place("FAL", "Fallujah", "الفلوجة", "IQ-AN", 65),
    place("QAI", "Al-Qa'im", "القائم", "IQ-AN", 35),
    place("HIT", "Hit", "هيت", "IQ-AN", 20),
    place("HAD", "Haditha", "حديثة", "IQ-AN", 15),
    place("ANA", "Anah", "عنه", "IQ-AN", 8),
    place("RUT", "Rutba", "الرطبة", "IQ-AN", 6),
    place("TIK", "Tikrit", "تكريت", "IQ-SD", 35),
    place("BAI", "Baiji", "بيجي", "IQ-SD", 30),
    place("SAM", "Samarra", "سامراء", "IQ-SD", 25),
    place("SHR", "Al-Shirqat", "الشرقاط", "IQ-SD", 35),
    place("TUZ", "Tuz Khurmatu", "طوز خورماتو", "IQ-SD", 12),
    place("BLD", "Balad", "بلد", "IQ-SD", 10),
    place("KRK", "Kirkuk", "كركوك", "IQ-KI", 30),
    place("HAW", "Al-Hawija", "الحويجة", "IQ-KI", 35),
    place("DBS", "Dibis", "الدبس", "IQ-KI", 6),
    place("BAQ", "Baqubah", "بعقوبة", "IQ-DI", 25),
    place("MUQ", "Al-Muqdadiya", "المقدادية", "IQ-DI", 15),
    place("KHN", "Khanaqin", "خانقين", "IQ-DI", 8),
    place("KHL", "Al-Khalis", "الخالص", "IQ-DI", 8),
    place("BGD", "Baghdad", "بغداد", "IQ-BG", 25),
    place("ABG", "Abu Ghraib", "أبو غريب", "IQ-BG", 12),
    place("TRM", "Al-Tarmiyah", "الطارمية", "IQ-BG", 8),
    place("EBL", "Erbil", "أربيل", "IQ-AR", 10),
    place("DHK", "Duhok", "دهوك", "IQ-DA", 8),
    place("JRF", "Jurf al-Nasr", "جرف النصر", "IQ-BB", 4),
    place("BSR", "Basra", "البصرة", "IQ-BA", 3),
    place("NJF", "Najaf", "النجف", "IQ-NA", 2),
];

/// A name with the spellings it is written in: Arabic-script variants
/// (hamza or not, ta marbuta or ha, alif maqsura or ya) and Latin
/// transliterations. Search must find every pairing.
pub struct Name {
    pub ar: &'static [&'static str],
    pub latin: &'static [&'static str],
}

const fn name(ar: &'static [&'static str], latin: &'static [&'static str]) -> Name {
    Name { ar, latin }
}

pub const WOMEN: &[Name] = &[
    name(&["فاطمة", "فاطمه"], &["Fatima", "Fatma", "Fatimah"]),
    name(&["زينب"], &["Zainab", "Zeinab", "Zaynab"]),
    name(&["مريم"], &["Maryam", "Mariam"]),
    name(&["نور"], &["Noor", "Nour"]),
    name(&["هدى", "هدي"], &["Huda", "Hoda"]),
    name(&["سارة", "ساره"], &["Sara", "Sarah"]),
    name(&["رقية", "رقيه"], &["Ruqaya", "Roqaya", "Ruqayyah"]),
    name(&["آمنة", "امنة", "امنه"], &["Amina", "Amna", "Aminah"]),
    name(&["خديجة", "خديجه"], &["Khadija", "Khadeeja"]),
    name(&["عائشة", "عايشة"], &["Aisha", "Aysha", "Aicha"]),
    name(&["حنان"], &["Hanan"]),
    name(&["سعاد"], &["Suad", "Souad"]),
    name(&["أسماء", "اسماء"], &["Asmaa", "Asma"]),
    name(&["إيمان", "ايمان"], &["Iman", "Eman"]),
    name(&["شيماء"], &["Shaimaa", "Shayma"]),
    name(&["رحمة", "رحمه"], &["Rahma", "Rahmah"]),
    name(&["بتول"], &["Batool", "Batoul"]),
    name(&["دعاء"], &["Duaa", "Doaa"]),
    name(&["سجى", "سجي"], &["Saja", "Sajaa"]),
    name(&["وفاء"], &["Wafaa", "Wafa"]),
    name(&["ابتسام"], &["Ibtisam", "Ebtisam"]),
    name(&["نادية", "ناديه"], &["Nadia", "Nadiya"]),
    name(&["سميرة", "سميره"], &["Samira", "Sameera"]),
    name(&["هناء"], &["Hanaa", "Hana"]),
    name(&["رنا"], &["Rana"]),
    name(&["ندى", "ندي"], &["Nada"]),
    name(&["غفران"], &["Ghufran", "Ghofran"]),
    name(&["أمل", "امل"], &["Amal"]),
];

pub const GIRLS: &[Name] = &[
    name(&["فاطمة", "فاطمه"], &["Fatima", "Fatma"]),
    name(&["زينب"], &["Zainab", "Zeinab"]),
    name(&["مريم"], &["Maryam", "Mariam"]),
    name(&["رقية", "رقيه"], &["Ruqaya", "Roqaya"]),
    name(&["حوراء"], &["Hawraa", "Hawra"]),
    name(&["ملاك"], &["Malak"]),
    name(&["جنى", "جني"], &["Jana"]),
    name(&["تبارك"], &["Tabarak"]),
    name(&["آية", "اية", "ايه"], &["Aya", "Ayah"]),
    name(&["رزان"], &["Razan"]),
    name(&["هاجر"], &["Hajar", "Hajer"]),
    name(&["صفاء"], &["Safa", "Safaa"]),
    name(&["أسيل", "اسيل"], &["Aseel", "Asil"]),
    name(&["نبأ"], &["Naba", "Nabaa"]),
    name(&["حلا"], &["Hala"]),
];

pub const MEN: &[Name] = &[
    name(&["محمد"], &["Mohammed", "Muhammad", "Mohamed", "Mohammad"]),
    name(&["أحمد", "احمد"], &["Ahmed", "Ahmad"]),
    name(&["علي", "على"], &["Ali"]),
    name(&["حسين"], &["Hussein", "Husain", "Hussain"]),
    name(&["حسن"], &["Hassan", "Hasan"]),
    name(&["عمر"], &["Omar", "Umar"]),
    name(&["عبدالله", "عبد الله"], &["Abdullah", "Abdallah"]),
    name(&["يوسف"], &["Yousif", "Yusuf", "Youssef"]),
    name(&["إبراهيم", "ابراهيم"], &["Ibrahim", "Ebrahim"]),
    name(&["مصطفى", "مصطفي"], &["Mustafa", "Mostafa"]),
    name(&["خالد"], &["Khalid", "Khaled"]),
    name(&["محمود"], &["Mahmoud", "Mahmood"]),
    name(&["عباس"], &["Abbas"]),
    name(&["جاسم"], &["Jasim", "Jassim", "Jasem"]),
    name(&["كريم"], &["Kareem", "Karim"]),
    name(&["سعد"], &["Saad", "Sa'ad"]),
    name(&["صالح"], &["Salih", "Saleh"]),
    name(&["فاضل"], &["Fadhil", "Fadel"]),
    name(&["عادل"], &["Adil", "Adel"]),
    name(&["ياسين"], &["Yaseen", "Yassin"]),
    name(&["إسماعيل", "اسماعيل"], &["Ismail", "Ismael"]),
    name(&["نايف"], &["Naif", "Nayef"]),
    name(&["رعد"], &["Raad", "Ra'ad"]),
    name(&["شاكر"], &["Shakir", "Shaker"]),
    name(
        &["عبدالرحمن", "عبد الرحمن"],
        &["Abdulrahman", "Abdelrahman"],
    ),
];

pub const BOYS: &[Name] = &[
    name(&["محمد"], &["Mohammed", "Muhammad"]),
    name(&["أحمد", "احمد"], &["Ahmed", "Ahmad"]),
    name(&["علي", "على"], &["Ali"]),
    name(&["عمر"], &["Omar", "Umar"]),
    name(&["يوسف"], &["Yousif", "Yusuf"]),
    name(&["مصطفى", "مصطفي"], &["Mustafa", "Mostafa"]),
    name(&["حمزة", "حمزه"], &["Hamza", "Hamzah"]),
    name(&["زيد"], &["Zaid", "Zayd"]),
    name(&["سيف"], &["Saif", "Sayf"]),
    name(&["طه"], &["Taha"]),
    name(&["آدم", "ادم"], &["Adam"]),
    name(&["ياسين"], &["Yaseen", "Yassin"]),
    name(&["عبدالله", "عبد الله"], &["Abdullah", "Abdallah"]),
    name(&["مهدي"], &["Mahdi", "Mehdi"]),
    name(&["حيدر"], &["Haider", "Hayder"]),
    name(&["أنس", "انس"], &["Anas"]),
    name(&["براء"], &["Baraa", "Bara"]),
    name(&["معاذ"], &["Muath", "Moaz"]),
];

/// Tribal and family names, written as people write them: with the article
/// joined (الجبوري) and transliterated with it (Al-Jubouri, al-Jabouri).
pub const FAMILIES: &[Name] = &[
    name(&["الجبوري"], &["Al-Jubouri", "Al-Jabouri", "al-Jubury"]),
    name(&["الدليمي"], &["Al-Dulaimi", "Al-Dulaymi"]),
    name(&["العبيدي"], &["Al-Obaidi", "Al-Ubaidi"]),
    name(&["الشمري"], &["Al-Shammari", "Al-Shamari"]),
    name(&["التميمي"], &["Al-Tamimi", "Al-Tamimy"]),
    name(&["الزبيدي"], &["Al-Zubaidi", "Al-Zobaidi"]),
    name(&["الحمداني"], &["Al-Hamdani"]),
    name(&["العزاوي"], &["Al-Azzawi", "Al-Azawi"]),
    name(&["الكبيسي"], &["Al-Kubaisi", "Al-Kubaysi"]),
    name(&["الجنابي"], &["Al-Janabi"]),
    name(&["السامرائي"], &["Al-Samarrai", "Al-Samarai"]),
    name(&["البياتي"], &["Al-Bayati"]),
    name(&["الطائي"], &["Al-Taie", "Al-Tai"]),
    name(&["العاني"], &["Al-Ani"]),
    name(&["الراوي"], &["Al-Rawi"]),
    name(&["الحديثي"], &["Al-Hadithi"]),
    name(&["النعيمي"], &["Al-Nuaimi", "Al-Naimi"]),
    name(&["اللهيبي"], &["Al-Luhaibi", "Al-Lahibi"]),
    name(&["المحمدي"], &["Al-Mohammadi", "Al-Muhammadi"]),
    name(&["العلواني"], &["Al-Alwani"]),
    name(&["الفهداوي"], &["Al-Fahdawi"]),
    name(&["الحلبوسي"], &["Al-Halbousi", "Al-Halbosi"]),
    name(&["السبعاوي"], &["Al-Sabaawi", "Al-Sabawi"]),
];

/// Where people come back from.
pub const CAMPS: &[&str] = &[
    "مخيم الهول",
    "مخيم الجدعة",
    "مخيم حمام العليل",
    "مخيم الخازر",
    "مخيم حسن شام",
    "مخيم عامرية الفلوجة",
    "مخيم ديبكة",
    "مخيم القيارة",
    "مخيم روج",
];

pub const ELSEWHERE: &[&str] = &["سوريا", "تركيا", "الحسكة، سوريا", "دير الزور، سوريا"];

pub const DETENTION: &[&str] = &["سجن الحسكة", "مركز احتجاز في سوريا"];

pub const NEIGHBOURHOODS: &[&str] = &[
    "حي الزهور",
    "حي السلام",
    "حي النور",
    "حي الصناعة",
    "حي الجامعة",
    "حي العسكري",
    "حي الأندلس",
    "حي المثنى",
    "حي الرسالة",
    "حي الشرطة",
    "حي الصحة",
    "حي التأميم",
    "الحي القديم",
    "حي الإصلاح",
];

/// Notes a worker writes about vulnerability: kept encrypted like any note.
pub const VULNERABILITY_NOTES: &[&str] = &[
    "تحتاج إلى متابعة نفسية منتظمة",
    "الأطفال بدون وثائق ثبوتية، بحاجة إلى مراجعة دائرة الأحوال المدنية",
    "تعاني من مرض مزمن وتحتاج إلى علاج مستمر",
    "الأسرة بدون مصدر دخل",
    "السكن غير ملائم، منزل متضرر",
    "رفض من المجتمع المحلي، بحاجة إلى دعم للاندماج",
];

pub const REFERRAL_REASONS: &[&str] = &[
    "دعم نفسي واجتماعي بعد العودة من المخيم",
    "تسجيل في المدرسة بعد انقطاع عن الدراسة",
    "صفوف تقوية للّحاق بالمنهج",
    "تدريب مهني على الخياطة",
    "تدريب على الحلاقة والتجميل",
    "دورة محو أمية",
    "دعم لمشروع صغير",
    "جلسات دعم للأطفال",
    "البحث عن فرصة عمل مناسبة",
    "استخراج البطاقة الوطنية وشهادة الجنسية",
    "استشارة قانونية بشأن إثبات النسب",
    "متابعة صحية لمرض مزمن",
    "المشاركة في أنشطة المركز المجتمعي",
];

pub const OUTCOME_NOTES: &[&str] = &[
    "أكملت الدورة وحصلت على شهادة",
    "انقطع عن الحضور بسبب الانتقال",
    "تم التسجيل في الصف المناسب",
    "يحتاج إلى متابعة إضافية",
];

pub const DECLINE_REASONS: &[&str] = &[
    "لا توجد مقاعد شاغرة حالياً",
    "خارج الفئة العمرية للبرنامج",
    "بعيد عن موقع المركز",
];

pub const CLOSURE_REASONS: &[&str] = &[
    "اكتملت خطة الحالة",
    "انتقلت الأسرة إلى خارج المحافظة",
    "لم يعد التواصل ممكناً",
];

/// Providers each city has one of, by kind.
/// The name of a city's demo provider of `kind` (the city is added).
pub fn provider_name(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Psychosocial => "Psychosocial support centre",
        OrganisationKind::Education => "Education directorate, returnee desk",
        OrganisationKind::VocationalTraining => "Vocational training centre",
        OrganisationKind::Employment => "Job placement office",
        OrganisationKind::BusinessSupport => "Small business support programme",
        OrganisationKind::CivilDocumentation => "Civil status directorate, returnee desk",
        OrganisationKind::Health => "Primary health care centre",
        OrganisationKind::LegalAid => "Legal aid clinic",
        OrganisationKind::Community => "Community centre",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::blind_index::name_tokens;

    #[test]
    fn codes_are_unique_and_valid() {
        let mut codes: Vec<&str> = PLACES.iter().map(|p| p.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), PLACES.len());
        assert!(codes.iter().all(|c| c.len() == 3));
    }

    #[test]
    fn arabic_spelling_variants_normalise_alike() {
        // The point of the variants: search folds them together.
        for list in [WOMEN, GIRLS, MEN, BOYS, FAMILIES] {
            for name in list {
                let first = name_tokens(name.ar[0]).concat();
                for variant in name.ar {
                    assert_eq!(name_tokens(variant).concat(), first, "{variant}");
                }
            }
        }
    }
}
