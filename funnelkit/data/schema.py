"""The data contract: the tables funnelkit reads, their columns, types and allowed values.

Everything the loader checks is declared here, once; ``docs/data-contract.md`` carries the
same tables (``render_markdown`` writes them, and a test keeps the two in step).

Column names are English snake_case. Source files may use the Chinese headers listed in
``aliases`` instead (``线索编号`` for ``lead_id``); choice values may be written in
Chinese or English (``战败`` or ``lost``) and are normalised to the English code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "date", "int", "number", "bool", "choice", "stage"]


@dataclass(frozen=True)
class Stage:
    """One funnel stage: a code used in data and params, and its labels."""

    key: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


#: The telecom funnel, the default for every branch (params may set another).
DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("target", "目标客户", "Target"),
    Stage("potential", "潜在客户", "Potential"),
    Stage("contacted", "接触客户", "Contacted"),
    Stage("intent", "意向客户", "Intent"),
    Stage("signed", "签约客户", "Signed"),
    Stage("installed", "装机客户", "Installed"),
    Stage("paying", "缴费客户", "Paying"),
    Stage("effective", "有效客户", "Effective"),
)


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    doc: str
    required: bool = True  # the column must be present
    nullable: bool = False  # cells may be empty
    aliases: tuple[str, ...] = ()  # other accepted headers (Chinese first)
    choices: dict[str, tuple[str, ...]] | None = None  # code -> accepted spellings
    min: float | None = None
    max: float | None = None
    unique: bool = False
    personal: bool = False  # phone / ID number: masked in every output
    open: bool = False  # a choice whose other labels are kept as written (referral sources)


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    zh: str = ""
    file_stems: tuple[str, ...] = field(default=())  # accepted file names in a source folder

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _choice(*pairs: tuple[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {code: (code, *spellings) for code, spellings in pairs}


OUTCOMES = _choice(("open", ("跟进中", "未结")), ("won", ("成交", "赢单")), ("lost", ("战败", "输单")))

#: Lost kinds, and which of them are only quasi-lost (准战败) rather than truly lost (战败).
LOST_KINDS = _choice(
    ("abandoned", ("放弃购买",)),
    ("long_unclosed", ("长期未成交",)),
    ("misjudged", ("误判",)),
    ("competitor", ("购买竞品", "买了竞品")),
    ("unreachable", ("失去联系", "联系不上")),
)
QUASI_LOST_KINDS = ("abandoned", "long_unclosed", "misjudged")
TRULY_LOST_KINDS = ("competitor", "unreachable")

TIERS = _choice(
    ("premium", ("优质", "优质客户")), ("potential", ("潜力", "潜力客户")), ("general", ("一般", "一般客户"))
)
EVENT_KINDS = _choice(("referral", ("推荐",)), ("repurchase", ("续购", "复购")))
REFERRAL_SOURCES = _choice(
    ("existing_customer", ("老客户",)),
    ("friends_family", ("亲友",)),
    ("new_customer", ("新客户",)),
    ("same_industry", ("同行业",)),
    ("repeat_referral", ("重复推荐",)),
    ("same_region", ("同区域",)),
)
VISIT_KINDS = _choice(("phone", ("电话",)), ("onsite", ("上门", "拜访", "上门拜访")))

#: Loyalty scorecard (忠诚度, 10 points) and economic-capacity scorecard (经济实力, 10 points):
#: column -> (Chinese item, maximum points).
LOYALTY_ITEMS = {
    "loyalty_satisfaction": ("对产品和服务人员满意", 2),
    "loyalty_maintenance": ("定期在服务站保养", 3),
    "loyalty_events": ("参加活动", 2),
    "loyalty_referral": ("主动推荐", 3),
}
CAPACITY_ITEMS = {
    "capacity_standing": ("在当地或行业的地位", 2),
    "capacity_health": ("经营状况良好", 1),
    "capacity_reputation": ("信誉", 2),
    "capacity_reach": ("业务范围", 1),
    "capacity_units": ("已拥有车辆/业务量", 2),
    "capacity_plans": ("未来购买计划与能力", 2),
}

_BRANCH = Column("branch", "text", "Branch (分公司) as named in params `branch`.", aliases=("分公司", "网点"))
_REGION = Column("region", "text", "Sales region (区域).", aliases=("区域", "地区"))
_INDUSTRY = Column("industry", "text", "Customer industry (行业).", aliases=("行业",))
_SEGMENT = Column(
    "segment", "text", "Customer segment: 商企, 住宅, 公话, 校园 …", aliases=("客户类型", "细分市场", "客户群")
)
_PHONE = Column(
    "contact_phone",
    "text",
    "Contact phone; masked in every output.",
    required=False,
    nullable=True,
    aliases=("联系电话", "电话", "手机"),
    personal=True,
)


def _scorecard_columns() -> tuple[Column, ...]:
    items = {**LOYALTY_ITEMS, **CAPACITY_ITEMS}
    return tuple(
        Column(name, "int", f"{zh}, 0–{top} points.", required=False, nullable=True, aliases=(zh,), min=0, max=top)
        for name, (zh, top) in items.items()
    )


LEADS = Table(
    "leads",
    "One row per lead / opportunity. The funnel, lost-deal and forecast analyses read it.",
    (
        Column(
            "lead_id", "text", "Lead identifier, unique within the file.", aliases=("线索编号", "编号"), unique=True
        ),
        _BRANCH,
        Column("created_date", "date", "Date the lead was created.", aliases=("创建日期", "建档日期")),
        _SEGMENT,
        _REGION,
        _INDUSTRY,
        Column("product_line", "text", "Product line (产品线).", aliases=("产品线", "车型类别", "产品")),
        Column("owner", "text", "Sales owner (销售顾问).", aliases=("销售顾问", "客户经理", "负责人")),
        Column(
            "stage",
            "stage",
            "Furthest funnel stage reached: a stage key or label from params.",
            aliases=("最远阶段", "阶段"),
        ),
        Column("outcome", "choice", "open, won or lost.", aliases=("结果", "状态"), choices=OUTCOMES),
        Column(
            "amount",
            "number",
            "Deal amount in yuan (expected amount while open).",
            nullable=True,
            aliases=("金额", "成交金额"),
            min=0,
        ),
        Column(
            "lost_reason",
            "text",
            "Why the deal was lost (free label, grouped by the taxonomy in params).",
            required=False,
            nullable=True,
            aliases=("战败原因",),
        ),
        Column(
            "lost_kind",
            "choice",
            "准战败 quasi-lost: abandoned, long_unclosed, misjudged; 战败 lost: competitor, unreachable.",
            required=False,
            nullable=True,
            aliases=("战败类型",),
            choices=LOST_KINDS,
        ),
        Column(
            "competitor",
            "text",
            "Competitor brand the customer bought.",
            required=False,
            nullable=True,
            aliases=("竞品品牌", "竞争对手"),
        ),
        Column(
            "lost_date", "date", "Date the lead was marked lost.", required=False, nullable=True, aliases=("战败日期",)
        ),
        Column(
            "followed_up",
            "bool",
            "Lost lead followed up a second time.",
            required=False,
            nullable=True,
            aliases=("二次跟进",),
        ),
        Column(
            "reengaged",
            "bool",
            "Customer re-engaged after the second follow-up.",
            required=False,
            nullable=True,
            aliases=("重新激活",),
        ),
        Column(
            "recovered",
            "bool",
            "Lost lead won back after follow-up (yes/no).",
            required=False,
            nullable=True,
            aliases=("挽回成功", "是否挽回"),
        ),
        Column(
            "note",
            "text",
            "Free-text note; phone and ID numbers in it are masked in outputs.",
            required=False,
            nullable=True,
            aliases=("备注",),
        ),
        _PHONE,
    ),
    zh="线索",
    file_stems=("leads", "线索"),
)

STAGE_COUNTS = Table(
    "stage_counts",
    "The aggregated alternative to leads: customers per stage, period and segment.",
    (
        _BRANCH,
        Column("period", "text", "Period, e.g. 2006 or 2006-Q1.", aliases=("期间", "年份")),
        _SEGMENT,
        Column("stage", "stage", "Stage key or label from params.", aliases=("阶段",)),
        Column("count", "int", "Customers at this stage.", aliases=("数量", "客户数"), min=0),
    ),
    zh="阶段汇总",
    file_stems=("stage_counts", "阶段汇总"),
)

CUSTOMERS = Table(
    "customers",
    "Base customers (基盘客户), one row per customer and snapshot year, scored or already tiered.",
    (
        Column("customer_id", "text", "Customer identifier.", aliases=("客户编号",)),
        _BRANCH,
        _REGION,
        _INDUSTRY,
        Column("segment", "text", "Customer segment.", required=False, nullable=True, aliases=("客户类型",)),
        Column(
            "owner",
            "text",
            "Sales owner who follows the customer up.",
            required=False,
            nullable=True,
            aliases=("销售顾问", "客户经理"),
        ),
        Column("first_purchase_date", "date", "Date of the first purchase.", aliases=("首次购买日期",)),
        Column(
            "snapshot_year", "int", "Year of the scoring snapshot.", aliases=("年度", "快照年份"), min=1990, max=2100
        ),
        *_scorecard_columns(),
        Column(
            "tier",
            "choice",
            "Tier already assigned by the source: premium, potential, general "
            "(used when the scorecard items are absent).",
            required=False,
            nullable=True,
            aliases=("客户等级", "等级"),
            choices=TIERS,
        ),
        Column(
            "sales_amount",
            "number",
            "Purchases to date in yuan.",
            required=False,
            nullable=True,
            aliases=("累计购买金额", "销售额"),
            min=0,
        ),
        _PHONE,
        Column(
            "id_number",
            "text",
            "ID number (身份证号); masked in every output.",
            required=False,
            nullable=True,
            aliases=("身份证号",),
            personal=True,
        ),
    ),
    zh="基盘客户",
    file_stems=("customers", "基盘客户"),
)

EVENTS = Table(
    "events",
    "Referrals and repurchases (推荐 / 续购) by base customers.",
    (
        Column("event_id", "text", "Event identifier.", aliases=("事件编号",), unique=True),
        _BRANCH,
        Column("customer_id", "text", "Base customer who referred or repurchased.", aliases=("客户编号",)),
        Column("date", "date", "Event date.", aliases=("日期",)),
        Column("kind", "choice", "referral or repurchase.", aliases=("类型",), choices=EVENT_KINDS),
        Column(
            "source_type",
            "choice",
            "Referral source type (referrals only).",
            required=False,
            nullable=True,
            aliases=("推荐来源",),
            choices=REFERRAL_SOURCES,
            open=True,
        ),
        Column("amount", "number", "Business brought, yuan.", required=False, nullable=True, aliases=("金额",), min=0),
    ),
    zh="推荐续购",
    file_stems=("events", "referrals", "推荐续购"),
)

VISITS = Table(
    "visits",
    "Follow-up contacts with base customers: phone calls and on-site visits.",
    (
        _BRANCH,
        Column("customer_id", "text", "Customer visited.", aliases=("客户编号",)),
        Column("date", "date", "Visit date.", aliases=("日期", "回访日期")),
        Column("kind", "choice", "phone or onsite.", aliases=("方式", "回访方式"), choices=VISIT_KINDS),
        Column("owner", "text", "Sales owner who made the contact.", aliases=("销售顾问", "客户经理")),
    ),
    zh="回访",
    file_stems=("visits", "回访"),
)

TRANSACTIONS = Table(
    "transactions",
    "Purchases: one row per customer transaction. Give cost or margin (or neither: margin then "
    "comes from the cost rate in params).",
    (
        Column("transaction_id", "text", "Transaction identifier.", aliases=("交易编号", "订单号"), unique=True),
        _BRANCH,
        Column("customer_id", "text", "Customer.", aliases=("客户编号",)),
        Column("date", "date", "Transaction date.", aliases=("日期", "交易日期")),
        Column("amount", "number", "Revenue, yuan.", aliases=("金额", "交易金额"), min=0),
        Column("cost", "number", "Cost of sales, yuan.", required=False, nullable=True, aliases=("成本",), min=0),
        Column(
            "margin", "number", "Margin, yuan (revenue less cost).", required=False, nullable=True, aliases=("毛利",)
        ),
        Column("segment", "text", "Customer segment.", required=False, nullable=True, aliases=("客户类型",)),
        Column("region", "text", "Region.", required=False, nullable=True, aliases=("区域",)),
    ),
    zh="交易",
    file_stems=("transactions", "交易"),
)

TABLES: dict[str, Table] = {t.name: t for t in (LEADS, STAGE_COUNTS, CUSTOMERS, EVENTS, VISITS, TRANSACTIONS)}


def stage_date_column(stage: Stage) -> Column:
    """The optional date column of ``stage`` in the leads table (``date_<key>``, ``<label>日期``)."""
    return Column(
        f"date_{stage.key}",
        "date",
        f"Date the lead reached {stage.en} ({stage.zh}).",
        required=False,
        nullable=True,
        aliases=(f"{stage.zh}日期", f"{stage.en} date"),
    )


def table_columns(table: str, stages: tuple[Stage, ...] = DEFAULT_STAGES) -> tuple[Column, ...]:
    """All columns of ``table``, the per-stage date columns of leads included."""
    columns = TABLES[table].columns
    if table == "leads":
        columns = columns + tuple(stage_date_column(s) for s in stages)
    return columns


def date_columns(table: str, stages: list | None = None) -> tuple[str, ...]:
    """The date columns of a contract table (with ``stages``' stage dates for leads): what
    a report reads, alone, for the latest date in its data.

    Examples
    --------
    >>> date_columns("leads")[:2]
    ('created_date', 'lost_date')
    """
    return tuple(c.name for c in table_columns(table, resolve_stages(stages)) if c.kind == "date")


def personal_columns() -> set[str]:
    return {c.name for t in TABLES.values() for c in t.columns if c.personal}


def render_markdown() -> str:
    """The column tables of ``docs/data-contract.md``."""
    lines: list[str] = []
    for table in TABLES.values():
        lines += [
            f"### `{table.name}` ({table.zh})",
            "",
            table.doc,
            "",
            "| column | type | required | empty allowed | Chinese headers | allowed values / range | meaning |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in table_columns(table.name):
            if c.name.startswith("date_") and table.name == "leads" and c.name != "date_target":
                continue  # one example of the per-stage date columns is enough
            allowed = ""
            if c.choices:
                allowed = ", ".join(
                    f"`{code}` ({'/'.join(s[1:])})" if len(s) > 1 else f"`{code}`" for code, s in c.choices.items()
                )
            elif c.min is not None or c.max is not None:
                bounds = [f"≥ {c.min:g}" if c.min is not None else "", f"≤ {c.max:g}" if c.max is not None else ""]
                allowed = " ".join(b for b in bounds if b)
            elif c.kind == "stage":
                allowed = "a configured stage"
            name = "`date_<stage>`" if c.name == "date_target" else f"`{c.name}`"
            lines.append(
                f"| {name} | {c.kind} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {', '.join(c.aliases)} | {allowed} | {c.doc} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - used to refresh the docs
    print(render_markdown())


def resolve_stages(stages: list | tuple | None = None) -> tuple[Stage, ...]:
    """The funnel stages from params: ``[]``/``None`` gives the default telecom funnel;
    otherwise a list of ``{key, zh, en}`` mappings (or :class:`Stage`), first to last."""
    if not stages:
        return DEFAULT_STAGES
    return tuple(
        s if isinstance(s, Stage) else Stage(str(s["key"]), str(s["zh"]), str(s.get("en") or s["key"])) for s in stages
    )
