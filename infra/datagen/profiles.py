"""Who the generated market entities are: identifiers, names, trades, people and addresses.

`ProfileFactory.profile(i)` draws one entity from a seeded `random.Random`; the same seed and
call order always give the same entities. Names, USCCs and registration numbers are unique
within one factory.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from domain.identity import make_resident_id
from domain.masking import contains_unmasked_resident_id
from domain.names import lazy_pinyin
from domain.publicity import add_months
from domain.uscc import ALPHABET, TIANJIN_DISTRICTS, make_registration_number, make_uscc
from infra.datagen import names as kb

MODERN_SCOPE_FROM = date(2021, 3, 1).toordinal()  # 经营范围规范化表述
MA_CODES_FROM = date(2015, 10, 1).toordinal()  # new "MA…" organisation-code bodies
REGISTRATION_NUMBERS_UNTIL = date(2016, 1, 1).toordinal()  # 15-digit 注册号 issued before this

# entity type: (share, USCC category)
ENTITY_TYPES: dict[str, tuple[float, str]] = {
    "有限责任公司": (0.66, "91"),
    "股份有限公司": (0.03, "91"),
    "分公司": (0.05, "91"),
    "合伙企业": (0.03, "91"),
    "个体工商户": (0.20, "92"),
    "农民专业合作社": (0.03, "93"),
}
COMPANY_TYPES = frozenset({"有限责任公司", "股份有限公司", "分公司", "合伙企业"})

_WAN = 10_000
LLC_CAPITAL = (10, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000)
LLC_CAPITAL_W = (6, 5, 10, 25, 12, 10, 12, 10, 4, 2, 2, 1)
USD_CAPITAL = (10, 50, 100, 200, 500, 1000)
JSC_CAPITAL = (3000, 5000, 8000, 10000, 20000, 50000)
PARTNERSHIP_CAPITAL = (100, 500, 1000, 3000, 10000, 50000)
INDIVIDUAL_CAPITAL = (1, 2, 3, 5, 10, 20, 50)
COOP_CAPITAL = (20, 50, 100, 200, 500)


def cumulative(weights: Any) -> list[float]:
    return list(itertools.accumulate(weights))


@dataclass(slots=True)
class Profile:
    """One generated market entity as registered (later changes live in its timeline)."""

    index: int
    uscc: str
    district: str
    entity_type: str
    name: str
    sector: str
    term: str
    scope: list[str]
    permits: list[str]
    licences: tuple[tuple[str, float], ...]
    customs: bool
    capital: dict[str, str]
    established: int  # date ordinal
    legal_representative: dict[str, Any]
    address: str
    phone: str | None
    email: str | None
    website: str | None
    registration_authority: str
    registration_number: str | None = None
    operating_until: str | None = None
    rename: tuple[str, ...] = field(default=())  # (pattern, *parts) to build a new name from

    @property
    def is_company(self) -> bool:
        return self.entity_type in COMPANY_TYPES


class ProfileFactory:
    """Draws entities (and people and addresses for later events) from one seeded RNG."""

    def __init__(self, rng: random.Random, seed: int, today: date) -> None:
        self.rng = rng
        self.today = today.toordinal()
        self.names: set[str] = set()
        self._pinyin: dict[str, str] = {}
        self._people: list[dict[str, Any]] = []
        mix = random.Random(f"datagen-ids-{seed}")
        self._ma_offset = mix.randrange(31**6)
        self._digit_offset = mix.randrange(10**8)
        self._reg_offset = mix.randrange(10**8)
        self._ma_count = self._digit_count = self._reg_count = 0
        self._districts = list(kb.DISTRICT_WEIGHTS)
        self._district_cw = cumulative(kb.DISTRICT_WEIGHTS.values())
        self._types = list(ENTITY_TYPES)
        self._type_cw = cumulative(v[0] for v in ENTITY_TYPES.values())
        self._trade_cw = cumulative(t.weight for t in kb.TRADES)
        self._trades_by_term = {t.term: t for t in kb.TRADES}
        self._surnames = list(kb.SURNAMES)
        self._surname_cw = cumulative(kb.SURNAMES.values())
        self._llc_cw = cumulative(LLC_CAPITAL_W)
        self._tianjin = list(TIANJIN_DISTRICTS)
        self._other_regions = list(kb.OTHER_REGIONS)
        self._birth_range = (date(1955, 1, 1).toordinal(), date(2000, 12, 31).toordinal())
        self._years, self._year_cw = self._establishment_years(today)

    # --- dates --------------------------------------------------------------------------------

    def _establishment_years(self, today: date) -> tuple[list[int], list[float]]:
        years = list(range(1995, today.year + 1))
        weights = [float((y - 1990) ** 2) for y in years]
        weights[-1] *= max(today.timetuple().tm_yday / 366, 0.01)  # the current year is partial
        return years, cumulative(weights)

    def established_on(self) -> int:
        year = self.rng.choices(self._years, cum_weights=self._year_cw)[0]
        start = date(year, 1, 1).toordinal()
        end = min(date(year, 12, 31).toordinal(), self.today)
        return self.rng.randint(start, end)

    # --- identifiers ----------------------------------------------------------------------------

    def _uscc(self, district: str, category: str, established: int) -> str:
        while True:
            if established >= MA_CODES_FROM:
                x = (self._ma_count * 387_420_499 + self._ma_offset) % 31**6
                self._ma_count += 1
                digits = []
                for _ in range(6):
                    x, r = divmod(x, 31)
                    digits.append(ALPHABET[r])
                body = "MA" + "".join(digits)
            else:
                body = f"{(self._digit_count * 48_271 + self._digit_offset) % 10**8:08d}"
                self._digit_count += 1
            uscc = make_uscc(district, body, category).value
            # an all-digit code could pass for a resident id in free text; don't issue those
            if not contains_unmasked_resident_id(uscc):
                return uscc

    def _registration_number(self, district: str) -> str:
        seq = (self._reg_count * 69_069 + self._reg_offset) % 10**8
        self._reg_count += 1
        return make_registration_number(district, seq)

    # --- people -----------------------------------------------------------------------------------

    def person_name(self, sex: str) -> str:
        rng = self.rng
        surname = rng.choices(self._surnames, cum_weights=self._surname_cw)[0]
        first, second = (kb.MALE_FIRST, kb.MALE_SECOND) if sex == "M" else (kb.FEMALE_FIRST, kb.FEMALE_SECOND)
        if rng.random() < 0.25:
            return surname + rng.choice(second)
        return surname + rng.choice(first) + rng.choice(second)

    def mobile(self) -> str:
        return self.rng.choice(kb.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def person(self, *, reuse: float = 0.04) -> dict[str, Any]:
        """A natural person (legal representative, operator); sometimes one seen before."""
        rng = self.rng
        if self._people and rng.random() < reuse:
            return dict(rng.choice(self._people))
        sex: Literal["M", "F"] = "M" if rng.random() < 0.7 else "F"
        birth = date.fromordinal(rng.randint(*self._birth_range))
        if rng.random() < 0.7:
            region = rng.choice(self._tianjin)
            home = f"天津市{TIANJIN_DISTRICTS[region][0]}{self._compound()}"
        else:
            region = rng.choice(self._other_regions)
            home = (
                f"{kb.OTHER_REGIONS[region]}{rng.choice(kb.OTHER_ROADS)}{rng.randint(1, 300)}号"
                f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}"
            )
        person = {
            "name": self.person_name(sex),
            "id_type": "resident_id",
            "id_number": make_resident_id(region, birth, rng.randrange(499), sex),
            "phone": self.mobile(),
            "address": home,
        }
        if len(self._people) < 5000:
            self._people.append(person)
        else:
            self._people[rng.randrange(5000)] = person
        return person

    def foreign_person(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "name": rng.choice(kb.FOREIGN_REPRESENTATIVES),
            "id_type": "passport",
            "id_number": rng.choice("EGKMPT") + f"{rng.randrange(10**8):08d}",
            "phone": self.mobile(),
        }

    def _compound(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(kb.COMPOUND_FIRST)}{rng.choice(kb.COMPOUND_SECOND)}{rng.choice(kb.COMPOUND_KIND)}"
            f"{rng.randint(1, 40)}号楼{rng.randint(1, 6)}门{rng.randint(1, 24)}0{rng.randint(1, 4)}"
        )

    # --- places -------------------------------------------------------------------------------------

    def address(self, district: str, *, shop: bool = False) -> str:
        rng = self.rng
        if district == "120116" and not shop and rng.random() < 0.15:
            return rng.choice(kb.FREE_TRADE_ADDRESSES).format(n=rng.randint(101, 9999), f=rng.randint(2, 40))
        road = rng.choice(kb.DISTRICT_ROADS[district])
        base = f"天津市{TIANJIN_DISTRICTS[district][0]}{road}{rng.randint(1, 999)}号"
        if shop:
            return base + rng.choice(("", "", "底商", "-1", "增1号"))
        r = rng.random()
        if r < 0.3:
            return base
        if r < 0.6:
            return f"{base}{rng.randint(1, 12)}号楼{rng.randint(1, 30)}0{rng.randint(1, 9)}室"
        if r < 0.85:
            floor = rng.randint(1, 30)
            return f"{base}{rng.choice(kb.BUILDINGS)}{floor}层{floor}0{rng.randint(1, 9)}"
        return f"{base}{rng.choice('ABCDE')}座{rng.randint(1, 20)}层"

    def landline(self) -> str:
        return f"022-{self.rng.choice('2356786')}{self.rng.randrange(10**7):07d}"

    # --- names ----------------------------------------------------------------------------------------

    def trade_name(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            return rng.choice(kb.TRADE_WORDS)
        if r < 0.88:
            a, b = rng.sample(kb.TRADE_CHARS, 2)
            return a + b
        return rng.choice(kb.TRADE_WORDS) + rng.choice(kb.TRADE_CHARS)

    def pinyin(self, text: str) -> str:
        value = self._pinyin.get(text)
        if value is None:
            value = self._pinyin[text] = "".join(lazy_pinyin(text))
        return value

    def unique_name(self, pattern: tuple[str, ...], district: str) -> tuple[str, str]:
        """(name, 字号) for a name pattern, unique in this run."""
        for attempt in range(200):
            if attempt == 3 and pattern[0] == "individual":
                pattern = (*pattern[:2], "trade", pattern[3])  # 李记面馆 taken: use a 字号 instead
            trade = self.trade_name()
            if attempt > 20:
                trade += self.rng.choice(kb.TRADE_CHARS)
            name = self._render(pattern, trade, district)
            if name not in self.names:
                self.names.add(name)
                return name, trade
        raise RuntimeError("无法生成不重复的企业名称")  # pragma: no cover - name space is vast

    def _render(self, pattern: tuple[str, ...], trade: str, district: str) -> str:
        kind, *parts = pattern
        dname = TIANJIN_DISTRICTS[district][0]
        short = dname.removesuffix("新区").removesuffix("区")
        if kind == "llc":
            term, form, prefix = parts
            if prefix == "bracket":
                return f"{trade}（天津）{term}{form}"
            return f"{prefix.replace('@', dname)}{trade}{term}{form}"
        if kind == "jsc":
            return f"天津{trade}{parts[0]}股份有限公司"
        if kind == "branch":
            city, term, with_district = parts
            return f"{city}{trade}{term}有限公司天津{short if with_district else ''}分公司"
        if kind == "partnership":
            return f"天津{trade}{parts[0]}合伙企业（有限合伙）"
        if kind == "coop":
            return f"天津市{dname}{trade}{parts[0]}农民专业合作社"
        shop, style, owner = parts  # individual
        if style == "ji":
            return f"{dname}{owner[0]}记{shop}"
        if style == "owner":
            return f"{dname}{owner}{shop}"
        return f"{dname}{trade}{shop}"

    # --- the entity -------------------------------------------------------------------------------------

    def profile(self, index: int) -> Profile:
        rng = self.rng
        entity_type = rng.choices(self._types, cum_weights=self._type_cw)[0]
        category = ENTITY_TYPES[entity_type][1]
        if entity_type == "农民专业合作社":
            district = rng.choice(kb.RURAL_DISTRICTS)
        else:
            district = rng.choices(self._districts, cum_weights=self._district_cw)[0]
        established = self.established_on()
        rep = self.person()
        currency = "CNY"
        licences: tuple[tuple[str, float], ...] = ()
        customs = False
        website = None
        if entity_type == "个体工商户":
            shop = rng.choice(kb.SHOPS)
            style = rng.choices(("ji", "trade", "owner"), (50, 35, 15))[0]
            pattern: tuple[str, ...] = ("individual", shop.shop, style, rep["name"])
            sector, term, scope_pool, permit_pool, licences = (
                shop.sector,
                shop.shop,
                shop.scope,
                shop.permits,
                shop.licences,
            )
            amount = rng.choice(INDIVIDUAL_CAPITAL) * _WAN
        elif entity_type == "农民专业合作社":
            term, scope_pool = rng.choice(kb.COOPERATIVES)
            pattern, sector, permit_pool = ("coop", term), kb.FARMING, ()
            amount = rng.choice(COOP_CAPITAL) * _WAN
        elif entity_type == "合伙企业":
            term, sector, scope_pool = rng.choice(kb.PARTNERSHIPS)
            pattern, permit_pool = ("partnership", term), ()
            amount = rng.choice(PARTNERSHIP_CAPITAL) * _WAN
        else:
            if entity_type == "股份有限公司":
                trade = self._trades_by_term[rng.choice(kb.JSC_TERMS)]
                pattern = ("jsc", trade.term)
                amount = rng.choice(JSC_CAPITAL) * _WAN
            elif entity_type == "分公司":
                trade = rng.choices(kb.TRADES, cum_weights=self._trade_cw)[0]
                pattern = (
                    "branch",
                    rng.choice(kb.PARENT_CITIES),
                    trade.term,
                    "y" if rng.random() < 0.7 else "",
                )
                amount = 0
            else:
                trade = rng.choices(kb.TRADES, cum_weights=self._trade_cw)[0]
                r = rng.random()
                prefix = "bracket" if r < 0.08 else "天津" if r < 0.5 else "天津市" if r < 0.82 else "天津市@"
                pattern = ("llc", trade.term, rng.choice(kb.LLC_FORMS), prefix)
                if rng.random() < 0.04:
                    currency = "USD"
                    amount = rng.choice(USD_CAPITAL) * _WAN
                else:
                    amount = rng.choices(LLC_CAPITAL, cum_weights=self._llc_cw)[0] * _WAN
            sector, term, scope_pool, permit_pool = trade.sector, trade.term, trade.scope, trade.permits
            licences, customs = trade.licences, trade.customs
        if currency == "USD" and rng.random() < 0.5:
            rep = self.foreign_person()
        name, trade_name = self.unique_name(pattern, district)
        scope = rng.sample(scope_pool, min(len(scope_pool), rng.randint(3, 5)))
        permits = [p for p in permit_pool if rng.random() < 0.7]
        email = None
        if entity_type == "个体工商户":
            phone: str | None = None  # the operator's own mobile: not published as the entity's phone
        else:
            phone = self.landline() if rng.random() < 0.75 else self.mobile()
            handle = self.pinyin(trade_name)
            email = f"{handle}@{rng.choice(('163.com', '126.com', 'qq.com', 'sina.com'))}"
            if rng.random() < 0.15:
                website = f"www.tj{handle}.com"
        operating_until = None
        if entity_type != "个体工商户" and rng.random() < 0.35:
            until = add_months(date.fromordinal(established), 12 * rng.choice((20, 30, 50)))
            if until.toordinal() > self.today:  # an expired 营业期限 would mean dissolution
                operating_until = until.isoformat()
        if entity_type == "股份有限公司":
            authority = "天津市市场监督管理委员会"
        else:
            authority = f"天津市{TIANJIN_DISTRICTS[district][0]}市场监督管理局"
        return Profile(
            index=index,
            uscc=self._uscc(district, category, established),
            district=district,
            entity_type=entity_type,
            name=name,
            sector=sector,
            term=term,
            scope=scope,
            permits=permits,
            licences=licences,
            customs=customs,
            capital={"amount": f"{amount}.00", "currency": currency},
            established=established,
            legal_representative=rep,
            address=self.address(district, shop=entity_type == "个体工商户"),
            phone=phone,
            email=email,
            website=website,
            registration_authority=authority,
            registration_number=(
                self._registration_number(district) if established < REGISTRATION_NUMBERS_UNTIL else None
            ),
            operating_until=operating_until,
            rename=pattern,
        )

    def new_name(self, profile: Profile) -> str:
        """A different unique name of the same shape (for a name change)."""
        pattern = profile.rename
        if pattern[0] == "individual":
            pattern = (pattern[0], pattern[1], "trade", pattern[3])
        return self.unique_name(pattern, profile.district)[0]


def scope_text(items: list[str], permits: list[str], on: int) -> str:
    """The 经营范围 as registered on day `on` (standardised wording from March 2021)."""
    if on >= MODERN_SCOPE_FROM:
        text = (
            "一般项目：" + "；".join(items) + "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"
        )
        if permits:
            text += (
                "许可项目：" + "；".join(permits) + "（依法须经批准的项目，经相关部门批准后方可开展经营活动，"
                "具体经营项目以相关部门批准文件或许可证件为准）。"
            )
        return text
    return "；".join(permits + items) + "。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
