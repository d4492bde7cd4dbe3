//! Plausible Chinese names, place names and road names.

use crate::dice::Dice;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "孔", "孟", "颜",
];

const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "浩", "宇", "轩", "博", "文", "俊",
    "晨", "阳", "子", "昊", "然", "泽", "睿", "航", "一", "铭", "宸",
];

const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "婷", "雪", "琳", "欣", "怡", "佳", "雨", "涵", "萱", "诗", "梓",
    "悦", "可", "馨", "彤", "瑶", "琪", "思", "若", "语", "晴", "菲",
];

pub(crate) fn surname(dice: &mut Dice) -> &'static str {
    dice.pick::<&str>(SURNAMES)
}

/// A full name with the given surname: one or two given characters.
pub(crate) fn full_name(dice: &mut Dice, surname: &str, male: bool) -> String {
    let pool = if male { GIVEN_MALE } else { GIVEN_FEMALE };
    let mut name = surname.to_owned();
    name.push_str(dice.pick::<&str>(pool));
    if dice.chance(0.7) {
        name.push_str(dice.pick::<&str>(pool));
    }
    name
}

/// Road names that every region county has (建设路 in 任城区 and in 兖州区):
/// a text naming no county can match both.
pub(crate) const SHARED_ROADS: &[&str] = &["建设路", "人民路", "解放路", "文化路", "新华路", "和平路"];

const ROAD_STEMS: &[&str] = &[
    "太白",
    "古槐",
    "红星",
    "琵琶山",
    "火炬",
    "洸河",
    "运河",
    "吴泰闸",
    "金宇",
    "车站",
    "崇文",
    "明德",
    "春秋",
    "大成",
    "静轩",
    "五福",
    "杏坛",
    "书院",
    "鼓楼",
    "中御桥",
    "九州",
    "兴隆",
    "昌平",
    "宏河",
    "仙营",
    "常青",
    "益民",
    "育才",
    "通达",
    "光明",
    "振兴",
    "康庄",
    "永丰",
    "钢山",
    "千泉",
    "岗山",
    "凫山",
    "峄山",
    "唐王",
    "平阳",
    "泗河",
    "蓼河",
    "孔林",
    "颜庙",
    "周公",
    "尼山",
    "微湖",
    "昭阳",
    "夏镇",
    "汶河",
    "中都",
    "圣泽",
    "龙桥",
    "酒仙",
    "九仙",
    "荷花",
    "菱花",
    "枣园",
    "柳行",
    "杨柳",
    "梨园",
    "桃园",
];

const ROAD_SUFFIXES: &[&str] = &["路", "中路", "北路", "南路", "东路", "西路", "街", "大道"];

/// The `n`-th road name that is not shared: stems first, then suffixes, so
/// names stay distinct across the whole region.
pub(crate) fn unique_road(n: usize) -> String {
    let stem = ROAD_STEMS[n % ROAD_STEMS.len()];
    let suffix = ROAD_SUFFIXES[(n / ROAD_STEMS.len()) % ROAD_SUFFIXES.len()];
    let round = n / (ROAD_STEMS.len() * ROAD_SUFFIXES.len());
    if round == 0 {
        format!("{stem}{suffix}")
    } else {
        // Past 512 roads: 太白二路, 太白三路, ...
        let ordinal = ["", "二", "三", "四", "五", "六", "七", "八", "九"][round.min(8)];
        format!("{stem}{ordinal}{suffix}")
    }
}

/// 1 to 99 in Chinese numerals (一, 十二, 二十三), for school names; larger in digits.
pub(crate) fn chinese_number(n: u32) -> String {
    let d = |k: u32| CHINESE_DIGITS[k as usize];
    match n {
        100.. => n.to_string(),
        0..=9 => d(n).to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", d(n - 10)),
        _ if n.is_multiple_of(10) => format!("{}十", d(n / 10)),
        _ => format!("{}十{}", d(n / 10), d(n % 10)),
    }
}

const CHINESE_DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// `143` as `一四三`: a house number an old clerk wrote in Chinese numerals,
/// which the address grammar does not accept.
pub(crate) fn chinese_digits(n: u32) -> String {
    n.to_string()
        .bytes()
        .map(|b| CHINESE_DIGITS[usize::from(b - b'0')])
        .collect()
}
