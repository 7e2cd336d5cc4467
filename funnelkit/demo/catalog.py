"""The fixed vocabulary and the business shape of the demo data.

Everything the generators draw from lives here: branches and their peculiarities, regions,
owners, segments, product lines, lost reasons and the free-text note templates. The numbers
are the knobs that give the demo its story (see :mod:`funnelkit.demo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: First and last lead year; the telecom branch compares these years one by one.
YEARS = (2003, 2004, 2005, 2006)
#: Leads at scale 1, all branches and years together.
LEADS_AT_SCALE_1 = 50_000
YEAR_SHARE = np.array([0.21, 0.24, 0.26, 0.29])

#: Stage-to-stage pass rates over the default funnel (target→potential, …, paying→effective).
BASE_PASS = np.array([0.40, 0.45, 0.55, 0.55, 0.76, 0.70, 0.66])
#: The real improvement a year-over-year test should find: contacted→intent in 2006.
IMPROVEMENT = {"year": 2006, "step": 2, "delta": 0.08}
#: Days between consecutive stages: (gamma shape, mean days, minimum days).
STAGE_GAPS = ((2.0, 5, 1), (2.0, 12, 2), (2.0, 14, 2), (2.5, 20, 3), (3.0, 10, 2), (8.0, 30, 15), (60.0, 90, 60))


@dataclass(frozen=True)
class Branch:
    name: str
    code: str  # short ASCII code used in identifiers
    share: float  # of all leads
    pass_delta: tuple[float, ...]  # added to BASE_PASS: the branch's strengths and weaknesses
    regions: tuple[str, ...]
    owners: tuple[str, ...]
    id_areas: tuple[int, ...]  # ID-number area codes of the city


BRANCHES: tuple[Branch, ...] = (
    Branch(
        "杭州分公司",
        "HZ",
        0.30,
        (0.03, 0, 0, 0, 0, 0, 0),
        ("西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "余杭区"),
        ("王建国", "李晓燕", "张伟", "刘芳", "陈志强", "杨丽", "赵磊", "黄敏"),
        (330102, 330106, 330108),
    ),
    Branch(
        "宁波分公司",
        "NB",
        0.24,
        (0, -0.08, 0, 0, 0, 0, 0),  # weak at making contact
        ("海曙区", "江北区", "鄞州区", "北仑区", "镇海区", "慈溪市"),
        ("周海波", "吴静", "徐明", "孙丽娟", "胡斌", "朱婷", "高翔", "林晓峰"),
        (330203, 330205, 330212),
    ),
    Branch(
        "温州分公司",
        "WZ",
        0.19,
        (0, 0, 0, 0, -0.14, 0, 0),  # weak at installing signed deals
        ("鹿城区", "龙湾区", "瓯海区", "瑞安市", "乐清市"),
        ("郑国华", "何雪梅", "郭涛", "马丽", "罗俊", "梁静", "宋超", "谢芳"),
        (330302, 330303, 330381),
    ),
    Branch(
        "绍兴分公司",
        "SX",
        0.15,
        (-0.03, 0, -0.03, 0, 0, 0, 0),
        ("越城区", "柯桥区", "上虞区", "诸暨市", "嵊州市"),
        ("韩冬", "唐晓丽", "冯勇", "于洁", "董鹏", "萧红", "程刚", "曹雯"),
        (330602, 330621, 330681),
    ),
    Branch(
        "嘉兴分公司",
        "JX",
        0.12,
        (-0.02, 0, 0, 0.03, 0, 0, 0),
        ("南湖区", "秀洲区", "海宁市", "平湖市", "桐乡市", "嘉善县"),
        ("袁立", "邓丽萍", "许军", "傅晓", "沈阳", "曾敏", "彭飞", "吕娜"),
        (330402, 330481, 330483),
    ),
)

SEGMENTS = ("商企", "住宅", "公话", "校园")
LEAD_SEGMENT_SHARE = np.array([0.35, 0.55, 0.06, 0.04])
#: Added to the pass rates by segment (商企 is easier to reach, 校园 mostly covered).
SEGMENT_PASS_DELTA = np.array(
    [
        [0.00, 0.05, 0.05, 0, 0, 0, 0],
        [0.00, -0.02, -0.02, 0, 0, 0, 0],
        [0.00, 0.00, -0.05, 0, 0, 0, 0],
        [0.10, 0.00, 0.00, 0, 0, 0, 0],
    ]
)
#: Deal amounts in yuan by segment: (low, high); drawn log-uniformly.
SEGMENT_AMOUNT = ((3_000, 60_000), (600, 3_000), (300, 1_500), (500, 2_000))

INDUSTRIES = ("物流运输", "建筑工程", "商贸批发", "制造业", "农业", "餐饮服务", "政府机关")
INDUSTRY_SHARE = np.array([0.16, 0.14, 0.20, 0.22, 0.08, 0.13, 0.07])

PRODUCT_LINES = ("宽带", "固话", "专线", "移动")
#: Product line by segment (rows follow SEGMENTS).
PRODUCT_SHARE = np.array(
    [
        [0.30, 0.20, 0.25, 0.25],
        [0.55, 0.20, 0.00, 0.25],
        [0.00, 0.80, 0.00, 0.20],
        [0.60, 0.05, 0.05, 0.30],
    ]
)

LOST_REASONS = (
    "价格太高",
    "品牌不认可",
    "产品不满意",
    "资金未到位",
    "要求不合理",
    "资源不足",
    "跟进不及时",
    "网络未覆盖",
    "未接触",
)
#: Lost reason of leads lost after contact, by product line (rows follow PRODUCT_LINES);
#: 价格太高 leads in every line.
REASON_SHARE = np.array(
    [
        [0.34, 0.12, 0.14, 0.10, 0.08, 0.10, 0.12],
        [0.26, 0.18, 0.16, 0.12, 0.10, 0.06, 0.12],
        [0.34, 0.10, 0.12, 0.16, 0.10, 0.08, 0.10],
        [0.30, 0.20, 0.10, 0.08, 0.10, 0.06, 0.16],
    ]
)
LOST_KINDS = ("abandoned", "long_unclosed", "misjudged", "competitor", "unreachable")
LOST_KIND_SHARE = np.array([0.25, 0.18, 0.12, 0.30, 0.15])  # quasi-lost 55 %
COMPETITORS = ("中国移动", "中国联通", "广电网络", "其他")
COMPETITOR_SHARE = np.array([0.35, 0.40, 0.15, 0.10])
FOLLOW_UP, REENGAGE, RECOVER = 0.60, 0.40, 0.40
NOTE_SHARE = (0.23, 0.45)  # of leads lost before / after contact: ~25 % of lost leads

#: The planted driver of losing: this owner of this branch lets most deals that would have been
#: signed slip at the intent stage (that share of them, drawn from a stream of its own), so
#: his decided deals are lost about nine times in ten against two in three for his peers.
WEAK_OWNER = ("宁波分公司", "徐明")
WEAK_OWNER_SLIP = 0.75

#: Note templates: (lost reason index, text, low, high); {n} is a number in [low, high],
#: {phone} a mobile number and {id} an ID number, filled in when the note is written.
NOTES: tuple[tuple[int, str, int, int], ...] = (
    (0, "客户嫌价格高，对比联通便宜{n}元", 50, 300),
    (0, "报价超出客户预算，差{n}元", 100, 2000),
    (0, "客户嫌月租贵，要求每月优惠{n}元", 10, 50),
    (1, "客户更信任移动品牌", 0, 0),
    (1, "客户认为电信服务一般，倾向联通", 0, 0),
    (2, "客户反映网速不稳定，试用后不满意", 0, 0),
    (2, "客户需要{n}M带宽，现有产品达不到", 4, 20),
    (3, "客户预算要到明年才批，约{n}个月后再联系", 2, 9),
    (3, "资金未到位，暂缓安装", 0, 0),
    (4, "客户要求免费安装并赠送{n}个月", 2, 12),
    (4, "客户要求价格低于成本", 0, 0),
    (5, "端口资源不足，无法装机", 0, 0),
    (5, "线路资源紧张，需等待{n}天", 10, 90),
    (6, "销售{n}天未回访，客户已转向竞品", 7, 45),
    (6, "跟进不及时，客户失去兴趣", 0, 0),
    (7, "小区未覆盖光纤，无法受理", 0, 0),
    (7, "该地址暂无网络资源", 0, 0),
    (8, "电话无人接听", 0, 0),
    (8, "客户资料不全，未能联系", 0, 0),
)
NOTE_PHONE = "客户联系人手机{phone}，要求下月再联系"
NOTE_ID = "客户身份证{id}，资料待核实"
NOTE_SCRIPT = "客户留言<script>alert(1)</script>"
NOTE_PHONE_SHARE, NOTE_ID_SHARE = 0.10, 0.03

#: Base customers per branch at scale 1 (followed the branch's lead share) and churn.
CUSTOMERS_AT_SCALE_1 = (1150, 950, 820, 740, 680)
CUSTOMER_SEGMENT_SHARE = np.array([0.70, 0.20, 0.05, 0.05])
CUSTOMER_NEW_2006, CUSTOMER_GONE_2006 = 0.12, 0.08
#: Tier shares (premium, potential, general) before regional/industry tilts.
TIER_SHARE = np.array([0.04, 0.12, 0.84])
#: How much likelier premium/potential are by region position and industry.
REGION_TILT = np.array([1.8, 1.3, 1.0, 0.8, 0.6, 0.5])
INDUSTRY_TILT = np.array([1.6, 1.3, 1.1, 1.0, 0.4, 0.6, 1.2])

#: Events per customer and year by tier (premium, potential, general).
REFERRALS_PER_YEAR = np.array([1.8, 0.7, 0.15])
REPURCHASES_PER_YEAR = np.array([1.5, 0.8, 0.25])
REFERRAL_SOURCE_SHARE = np.array([0.40, 0.18, 0.12, 0.12, 0.10, 0.08])  # schema.REFERRAL_SOURCES order
#: Share of customers whose owner follows the policy (a call every month, a visit every
#: quarter), by tier; the others get a call in a month / a visit in a quarter by chance.
FOLLOWS_POLICY = np.array([0.75, 0.40, 0.10])
PHONE_MONTHLY, ONSITE_QUARTERLY = 0.60, 0.35
#: Yearly tier moves: general↔potential and potential↔premium; the downward chances are
#: set per customer so that its tier shares stay the same from year to year.
TIER_UP = np.array([0.06, 0.025])  # potential→premium, general→potential

#: Customers acquired per branch and year at scale 1, and the year-on-year retention of a
#: cohort: first year after acquisition, second, third and later.
ACQUIRED_AT_SCALE_1 = 1_300
RETENTION = (0.60, 0.72, 0.80)
PURCHASES_PER_ACTIVE_YEAR = 3.5
TX_AMOUNT_MEDIAN = (1_500.0, 250.0, 120.0, 200.0)  # by segment
SAME_DAY_SHARE = 0.03
