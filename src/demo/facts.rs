//! Owns the demo city's hand-authored facts: road courses as rounded anchor points, district
//! outlines, named places, markets and responsible units. Positions are WGS84 lon/lat degrees
//! (RFC 7946 order), rounded to 3–4 decimals, i.e. good to tens of metres.
//!
//! These tables are written for the demo from general knowledge of Langfang's urban core
//! (roads named …路 run north–south, …道 east–west). The nine main roads, the places and the
//! twelve reference markets follow the project's reference notes approximately; secondary
//! roads, 椿树市场's exact spot, three extra markets, communities and units are invented but
//! plausible. Everything else (intersections, alleys, parking, bus stops) is generated.

/// Which way a road runs; intersections are always named "<north–south>与<east–west>交口".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    NorthSouth,
    EastWest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadClass {
    Main,
    Secondary,
}

impl RoadClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RoadClass::Main => "main",
            RoadClass::Secondary => "secondary",
        }
    }
}

#[derive(Debug)]
pub struct RoadFact {
    pub name: &'static str,
    pub axis: Axis,
    pub class: RoadClass,
    pub lanes: u8,
    pub oneway: bool,
    /// Course of the centreline, south→north or west→east, as (lon, lat).
    pub anchors: &'static [(f64, f64)],
}

const fn road(
    name: &'static str,
    axis: Axis,
    class: RoadClass,
    lanes: u8,
    oneway: bool,
    anchors: &'static [(f64, f64)],
) -> RoadFact {
    RoadFact {
        name,
        axis,
        class,
        lanes,
        oneway,
        anchors,
    }
}

use Axis::{EastWest, NorthSouth};
use RoadClass::{Main, Secondary};

/// Main roads first (永兴路 银河路 新华路 新开路 和平路 光明道 金光道 爱民道 广阳道), then
/// invented secondary roads west→east and south→north. Every road is drawn a little past the
/// outermost road it crosses; the generator trims the overhang.
#[rustfmt::skip]
pub const ROADS: &[RoadFact] = &[
    // name, axis, class, lanes, oneway, anchors (lon, lat)
    road("永兴路", NorthSouth, Main, 6, false,
         &[(116.6840, 39.4620), (116.6831, 39.4900), (116.6762, 39.5264), (116.6739, 39.5361), (116.6713, 39.5600), (116.6680, 39.5990)]),
    road("银河路", NorthSouth, Main, 6, false,
         &[(116.6960, 39.4620), (116.6954, 39.4769), (116.6921, 39.4862), (116.6919, 39.5032), (116.6936, 39.5116), (116.6935, 39.5186), (116.6865, 39.5765), (116.6850, 39.6000)]),
    road("新华路", NorthSouth, Main, 6, false,
         &[(116.7038, 39.5095), (116.6987, 39.5489), (116.6955, 39.5990)]),
    road("新开路", NorthSouth, Main, 4, false,
         &[(116.7115, 39.4620), (116.7128, 39.5008), (116.7167, 39.5055), (116.7160, 39.5109), (116.7093, 39.5663), (116.7060, 39.5990)]),
    road("和平路", NorthSouth, Main, 6, false,
         &[(116.7280, 39.4620), (116.7246, 39.4988), (116.7148, 39.5809), (116.7126, 39.5990)]),
    road("光明道", EastWest, Main, 6, false,
         &[(116.6050, 39.5085), (116.6606, 39.5112), (116.6838, 39.5121), (116.7042, 39.5106), (116.7250, 39.5115), (116.7929, 39.5187)]),
    road("金光道", EastWest, Main, 4, false,
         &[(116.6100, 39.5150), (116.6600, 39.5158), (116.6736, 39.5167), (116.6876, 39.5183), (116.6953, 39.5188), (116.7301, 39.5222), (116.7900, 39.5270)]),
    road("爱民道", EastWest, Main, 6, false,
         &[(116.6100, 39.5190), (116.6472, 39.5197), (116.6768, 39.5221), (116.6863, 39.5250), (116.7316, 39.5287), (116.7837, 39.5340), (116.7920, 39.5348)]),
    road("广阳道", EastWest, Main, 6, false,
         &[(116.6100, 39.5338), (116.6651, 39.5355), (116.7032, 39.5379), (116.7275, 39.5389), (116.7850, 39.5436)]),
    road("龙河路", NorthSouth, Secondary, 4, false,
         &[(116.6198, 39.4800), (116.6072, 39.5850)]),
    road("西环路", NorthSouth, Secondary, 4, false,
         &[(116.6360, 39.4700), (116.6216, 39.5900)]),
    road("丰收路", NorthSouth, Secondary, 2, false,
         &[(116.6511, 39.4650), (116.6355, 39.5950)]),
    road("西昌路", NorthSouth, Secondary, 4, false,
         &[(116.6645, 39.4620), (116.6481, 39.5980)]),
    road("光华路", NorthSouth, Secondary, 2, false,
         &[(116.6740, 39.4620), (116.6576, 39.5980)]),
    road("建设路", NorthSouth, Secondary, 4, false,
         &[(116.6925, 39.4620), (116.6760, 39.5990)]),
    road("常甫路", NorthSouth, Secondary, 2, false,
         &[(116.7050, 39.4620), (116.7040, 39.5060)]),
    road("东安路", NorthSouth, Secondary, 4, false,
         &[(116.7392, 39.4680), (116.7239, 39.5960)]),
    road("艺术大道", NorthSouth, Secondary, 6, false,
         &[(116.7475, 39.4780), (116.7335, 39.5950)]),
    road("创业路", NorthSouth, Secondary, 4, false,
         &[(116.7562, 39.4850), (116.7431, 39.5940)]),
    road("东昌路", NorthSouth, Secondary, 2, false,
         &[(116.7648, 39.4800), (116.7571, 39.5445)]),
    road("华祥路", NorthSouth, Secondary, 6, false,
         &[(116.7609, 39.5460), (116.7551, 39.5940)]),
    road("全兴路", NorthSouth, Secondary, 4, false,
         &[(116.7689, 39.5460), (116.7632, 39.5930)]),
    road("友谊路", NorthSouth, Secondary, 4, false,
         &[(116.7840, 39.4780), (116.7704, 39.5920)]),
    road("四海路", NorthSouth, Secondary, 4, false,
         &[(116.7839, 39.5460), (116.7786, 39.5900)]),
    road("金源道", EastWest, Secondary, 2, false,
         &[(116.6400, 39.4612), (116.7350, 39.4688)]),
    road("丰华道", EastWest, Secondary, 2, false,
         &[(116.6100, 39.4663), (116.7400, 39.4767)]),
    road("富康道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.4728), (116.7850, 39.4868)]),
    road("南龙道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.4798), (116.7900, 39.4942)]),
    road("永华道", EastWest, Secondary, 6, false,
         &[(116.6100, 39.4868), (116.7900, 39.5012)]),
    road("曙光道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.4938), (116.7900, 39.5082)]),
    road("兴安道", EastWest, Secondary, 2, true,
         &[(116.6100, 39.5045), (116.6900, 39.5065), (116.6990, 39.5068)]),
    road("康庄道", EastWest, Secondary, 2, true,
         &[(116.6100, 39.5120), (116.6600, 39.5138), (116.7000, 39.5150), (116.7900, 39.5200)]),
    road("育人道", EastWest, Secondary, 2, false,
         &[(116.6100, 39.5246), (116.7900, 39.5390)]),
    road("解放道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.5368), (116.7850, 39.5508)]),
    road("建国道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.5433), (116.7850, 39.5573)]),
    road("新源道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.5498), (116.7850, 39.5638)]),
    road("永丰道", EastWest, Secondary, 2, false,
         &[(116.6100, 39.5563), (116.7850, 39.5703)]),
    road("裕华道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.5628), (116.7850, 39.5768)]),
    road("北凤道", EastWest, Secondary, 4, false,
         &[(116.6100, 39.5693), (116.7850, 39.5833)]),
    road("云鹏道", EastWest, Secondary, 6, false,
         &[(116.6100, 39.5758), (116.7850, 39.5898)]),
    road("百合道", EastWest, Secondary, 4, false,
         &[(116.6400, 39.5842), (116.7850, 39.5958)]),
    road("北环道", EastWest, Secondary, 4, false,
         &[(116.6500, 39.5910), (116.7400, 39.5982)]),
];

/// Long roads that carry different names on either side of a crossing, as locals use them in
/// alley, parking and bus-stop names: (road, crossing road, name south/west of it, name north/east).
pub const LOCAL_NAME_SPLITS: &[(&str, &str, &str, &str)] = &[
    ("光明道", "新华路", "光明西道", "光明东道"),
    ("爱民道", "新华路", "爱民西道", "爱民东道"),
    ("银河路", "光明道", "银河南路", "银河北路"),
];

#[derive(Debug)]
pub struct DistrictFact {
    pub name: &'static str,
    pub adcode: u32,
    /// Outline vertices (lon, lat), ring not closed.
    pub outline: &'static [(f64, f64)],
}

/// Simplified outlines. 安次区 and 广阳区 share the boundary that follows the Beijing–Shanghai
/// railway through the city (north-west to south-east); the 开发区 is carved out of 广阳区's
/// north-east, so the three polygons do not overlap. 安次区 is cut off well south of the city.
pub const DISTRICTS: &[DistrictFact] = &[
    DistrictFact {
        name: "安次区",
        adcode: 131002,
        outline: &[
            (116.600, 39.480),
            (116.620, 39.545),
            (116.636, 39.548),
            (116.736, 39.492),
            (116.793, 39.472),
            (116.865, 39.426),
            (116.880, 39.232),
            (116.770, 39.153),
            (116.680, 39.281),
            (116.604, 39.447),
        ],
    },
    DistrictFact {
        name: "广阳区",
        adcode: 131003,
        outline: &[
            (116.600, 39.480),
            (116.449, 39.452),
            (116.405, 39.523),
            (116.606, 39.618),
            (116.712, 39.605),
            (116.770, 39.598),
            (116.745, 39.590),
            (116.738, 39.570),
            (116.745, 39.552),
            (116.788, 39.548),
            (116.797, 39.530),
            (116.793, 39.472),
            (116.736, 39.492),
            (116.636, 39.548),
            (116.620, 39.545),
        ],
    },
    DistrictFact {
        name: "廊坊经济技术开发区",
        // Statistical division code (统计用区划代码) of the zone; it is not a county-level adcode.
        adcode: 131071,
        outline: &[
            (116.745, 39.552),
            (116.788, 39.548),
            (116.792, 39.593),
            (116.770, 39.598),
            (116.745, 39.590),
            (116.738, 39.570),
        ],
    },
];

/// Point-in-polygon order: the 开发区 first, so it wins if outlines ever overlap.
pub const DISTRICT_LOOKUP_ORDER: &[&str] = &["廊坊经济技术开发区", "广阳区", "安次区"];

#[derive(Debug)]
pub struct PlaceFact {
    pub name: &'static str,
    /// Short label used in bus-stop and parking names.
    pub label: &'static str,
    pub lon: f64,
    pub lat: f64,
    /// Names of the parking lots that serve the place.
    pub lots: &'static [&'static str],
}

const fn place(
    name: &'static str,
    label: &'static str,
    lon: f64,
    lat: f64,
    lots: &'static [&'static str],
) -> PlaceFact {
    PlaceFact {
        name,
        label,
        lon,
        lat,
        lots,
    }
}

#[rustfmt::skip]
pub const PLACES: &[PlaceFact] = &[
    // name, label, lon, lat, parking lots
    place("廊坊北站", "廊坊北站", 116.6997, 39.5122, &["廊坊北站停车场"]),
    place("廊坊站", "廊坊站", 116.7006, 39.5090, &["廊坊站停车场", "廊坊站南广场停车场"]),
    place("廊坊市人民医院", "人民医院", 116.7026, 39.5160, &["人民医院停车场", "人民医院门诊停车场"]),
    place("万达广场", "万达广场", 116.7018, 39.5211, &["万达广场停车场", "万达广场东停车场"]),
    place("新华广场", "新华广场", 116.7016, 39.5245, &["新华广场停车场"]),
    place("人民公园", "人民公园", 116.7007, 39.5319, &["人民公园停车场"]),
    place("国际饭店", "国际饭店", 116.7207, 39.5304, &["国际饭店停车场"]),
    place("廊坊市文化艺术中心", "文化艺术中心", 116.7141, 39.5504, &["文化艺术中心停车场"]),
    place("廊坊国际会展中心", "会展中心", 116.7544, 39.5666, &["国际会展中心停车场", "国际会展中心东停车场"]),
    place("廊坊自然公园", "自然公园", 116.6339, 39.5391, &["自然公园停车场"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Named in the reference notes; position is that of the bus stop named after it.
    Reference,
    /// Real market, position estimated for the demo.
    Approximate,
    /// Invented for the demo.
    Invented,
}

#[derive(Debug)]
pub struct MarketFact {
    pub name: &'static str,
    pub lon: f64,
    pub lat: f64,
    pub category: &'static str,
    pub provenance: Provenance,
}

const fn market(
    name: &'static str,
    lon: f64,
    lat: f64,
    category: &'static str,
    provenance: Provenance,
) -> MarketFact {
    MarketFact {
        name,
        lon,
        lat,
        category,
        provenance,
    }
}

const FARM: &str = "农贸市场";
const GENERAL: &str = "综合市场";

#[rustfmt::skip]
pub const MARKETS: &[MarketFact] = &[
    // name, lon, lat, category, provenance
    market("东安市场", 116.7050, 39.5144, GENERAL, Provenance::Reference),
    market("春明市场", 116.7164, 39.5153, GENERAL, Provenance::Reference),
    market("朝阳市场", 116.7140, 39.5262, GENERAL, Provenance::Reference),
    market("花卉市场", 116.7143, 39.5235, GENERAL, Provenance::Reference),
    market("群安蔬菜市场", 116.6806, 39.5283, FARM, Provenance::Reference),
    market("北方农贸批发市场", 116.7247, 39.4940, FARM, Provenance::Reference),
    market("常甫路口惠民农贸市场", 116.7052, 39.4917, FARM, Provenance::Reference),
    market("麦洼农贸市场", 116.7060, 39.4998, FARM, Provenance::Reference),
    market("兴安市场", 116.6925, 39.5071, GENERAL, Provenance::Reference),
    market("隆福市场", 116.6874, 39.4905, GENERAL, Provenance::Reference),
    market("西昌路花卉市场", 116.6586, 39.5244, GENERAL, Provenance::Reference),
    market("万庄市场", 116.6159, 39.5775, GENERAL, Provenance::Reference),
    // Not in the reference notes: placed in 广阳区 north-west of 新华路/爱民道, approximate.
    market("椿树市场", 116.6990, 39.5290, FARM, Provenance::Approximate),
    market("新源农贸市场", 116.7180, 39.5590, FARM, Provenance::Invented),
    market("永华综合市场", 116.6960, 39.4965, GENERAL, Provenance::Invented),
    market("云鹏农贸市场", 116.7650, 39.5800, FARM, Provenance::Invented),
];

/// What a responsible unit (包联单位) does; decides which assets it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    UrbanManagement,
    Construction,
    TrafficPolice,
    MarketSupervision,
    Subdistrict,
    BusCompany,
    CampaignOffice,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::UrbanManagement => "城管",
            UnitKind::Construction => "住建",
            UnitKind::TrafficPolice => "交警",
            UnitKind::MarketSupervision => "市场监管",
            UnitKind::Subdistrict => "街道",
            UnitKind::BusCompany => "公交",
            UnitKind::CampaignOffice => "创城办",
        }
    }
}

#[derive(Debug)]
pub struct UnitFact {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: UnitKind,
    pub district: &'static str,
    /// Office seat (lon, lat) for units that split a district between them by proximity.
    pub seat: Option<(f64, f64)>,
    /// Communities (社区) under a subdistrict office; empty for other units.
    pub communities: &'static [&'static str],
}

const GY: &str = "广阳区";
const AC: &str = "安次区";
const KFQ: &str = "廊坊经济技术开发区";

const fn unit(
    id: &'static str,
    name: &'static str,
    kind: UnitKind,
    district: &'static str,
) -> UnitFact {
    UnitFact {
        id,
        name,
        kind,
        district,
        seat: None,
        communities: &[],
    }
}

const fn seated(
    id: &'static str,
    name: &'static str,
    kind: UnitKind,
    district: &'static str,
    seat: (f64, f64),
    communities: &'static [&'static str],
) -> UnitFact {
    UnitFact {
        id,
        name,
        kind,
        district,
        seat: Some(seat),
        communities,
    }
}

use UnitKind::*;

/// 30 units. Names of district bureaus and subdistricts follow Langfang's real structure;
/// market-supervision offices, bus branches and all communities are invented.
#[rustfmt::skip]
pub const UNITS: &[UnitFact] = &[
    unit("U01", "广阳区城管局", UrbanManagement, GY),
    unit("U02", "安次区城管局", UrbanManagement, AC),
    unit("U03", "开发区城管局", UrbanManagement, KFQ),
    unit("U04", "广阳区住建局", Construction, GY),
    unit("U05", "安次区住建局", Construction, AC),
    unit("U06", "开发区建设局", Construction, KFQ),
    unit("U07", "广阳交警大队", TrafficPolice, GY),
    unit("U08", "安次交警大队", TrafficPolice, AC),
    unit("U09", "开发区交警大队", TrafficPolice, KFQ),
    seated("U10", "银河北路市场监管所", MarketSupervision, GY, (116.690, 39.540), &[]),
    seated("U11", "新开路市场监管所", MarketSupervision, GY, (116.716, 39.522), &[]),
    seated("U12", "光明西道市场监管所", MarketSupervision, AC, (116.680, 39.512), &[]),
    seated("U13", "银河南路市场监管所", MarketSupervision, AC, (116.700, 39.492), &[]),
    seated("U14", "开发区市场监管所", MarketSupervision, KFQ, (116.765, 39.575), &[]),
    seated("U15", "银河北路街道", Subdistrict, GY, (116.684, 39.540), &["银河社区", "金泰社区", "西小区社区", "阳光社区"]),
    seated("U16", "解放道街道", Subdistrict, GY, (116.702, 39.548), &["解放道社区", "建国社区", "文化社区", "广阳社区"]),
    seated("U17", "新开路街道", Subdistrict, GY, (116.716, 39.522), &["新开社区", "朝阳社区", "春明社区", "花园社区"]),
    seated("U18", "爱民东道街道", Subdistrict, GY, (116.745, 39.530), &["爱民社区", "和平社区", "东安社区", "艺术社区"]),
    seated("U19", "新源道街道", Subdistrict, GY, (116.710, 39.575), &["新源社区", "永丰社区", "北凤社区", "裕华社区"]),
    seated("U20", "银河南路街道", Subdistrict, AC, (116.695, 39.493), &["隆福社区", "永华社区", "常甫社区", "南龙社区"]),
    seated("U21", "光明西道街道", Subdistrict, AC, (116.665, 39.515), &["兴安社区", "光明社区", "西昌社区", "金光社区"]),
    seated("U22", "永华道街道", Subdistrict, AC, (116.735, 39.480), &["北方社区", "富康社区", "丰华社区", "金源社区"]),
    seated("U23", "云鹏道街道", Subdistrict, KFQ, (116.770, 39.585), &["云鹏社区", "百合社区", "四海社区"]),
    seated("U24", "耀华道街道", Subdistrict, KFQ, (116.760, 39.560), &["耀华社区", "华祥社区", "友谊社区"]),
    unit("U25", "廊坊市公交集团第一分公司", BusCompany, GY),
    unit("U26", "廊坊市公交集团第二分公司", BusCompany, AC),
    unit("U27", "廊坊市公交集团第三分公司", BusCompany, KFQ),
    unit("U28", "广阳区创城办", CampaignOffice, GY),
    unit("U29", "安次区创城办", CampaignOffice, AC),
    unit("U30", "开发区创城办", CampaignOffice, KFQ),
];
