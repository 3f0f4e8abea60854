"""Fee quotes: fee calculation by the service staff (5.3.1.5).

Money is ``Decimal`` yuan, rounded ROUND_HALF_UP to the fen (0.01) at the points
below and nowhere else. Floats are refused (they cannot hold 0.1 exactly): pass a
``Decimal``, an ``int`` or a string such as ``"120.50"``.

1. Line amount = unit price × samples, exact, then rounded. A quote has 1–200
   lines; a unit price is > 0, ≤ 10 000 000 yuan, at most 4 decimal places;
   samples are whole numbers 1–100 000.
2. Volume discount, per line and before any other discount: ≥ 10 samples on one
   line → 5 % off that line, ≥ 50 → 10 %; rounded per line.
3. Subtotal = Σ (line amount − line volume discount).
4. Percentage discount (0–100, at most 2 places, e.g. 合同客户折扣) of the
   subtotal, rounded once; discounted subtotal = subtotal − discount.
5. Green channel (7.4.5, priority handling with shorter deadlines): an expedite
   surcharge of ``surcharge_percent`` (default 30, 0–100) of the discounted
   subtotal, rounded once; waived for government-department customers (5.2.2 b).
6. Total = discounted subtotal + surcharge.

A ``Quote`` is versioned: drafted (revision 1) → issued → accepted by the
customer. Revising (new lines, discount or green channel) is allowed until it is
accepted or withdrawn; it bumps the revision and returns the quote to draft, so
the customer only ever accepts the issued revision they name. A quote not yet
accepted may be withdrawn; accepted and withdrawn are final. Events carry amounts
as strings so they transcode losslessly; ``price`` is pure and the aggregate uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from eventsourcing.domain import event

from services.catalog.contract import POLICY_DEFAULTS
from services.catalog.contract import QUOTE_CUSTOMER_KINDS as CUSTOMER_KINDS
from services.catalog.contract import QUOTE_STATES as STATES
from shared.application import AuditedAggregate
from shared.validation import Errors, optional_text, require_choice, require_text

FEN = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
MAX_LINES = 200
MAX_SAMPLES = 100_000
MAX_UNIT_PRICE = Decimal(10_000_000)
PRICE_PLACES = Decimal("0.0001")
DEFAULT_SURCHARGE_PERCENT = Decimal(POLICY_DEFAULTS["green_channel_surcharge_percent"])
VOLUME_TIERS = ((50, Decimal(10)), (10, Decimal(5)))  # (min samples, percent off)
TEXT_FIELDS = {"item_code": ("检测项目编码", 32), "parameter": ("检测参数/项目", 200)}
LINE_FIELDS = (*TEXT_FIELDS, "unit_price", "samples")


class QuoteStateError(Exception):
    """The quote's current state does not allow this command."""


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal:
    """A Decimal, int or numeric string as a finite Decimal; a float is a TypeError."""
    if isinstance(value, float):
        raise TypeError("floats are not accepted for money; use Decimal or str")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"not a number: {type(value).__name__}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _strings(values: dict) -> dict:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _number(value: object, field: str, label: str, errors: Errors) -> Decimal | None:
    try:
        return to_decimal(value)
    except TypeError:
        if isinstance(value, float):
            message = f'{label}不能使用浮点数，请使用字符串（如 "120.50"）或整数'
        else:
            message = f"{label}应为数字"
    except ValueError:
        message = f"{label}不是有效的数字"
    errors.add(field, message)
    return None


def _percent(value: object, field: str, label: str, errors: Errors) -> Decimal:
    number = _number(value, field, label, errors)
    if number is None:
        return Decimal(0)
    if not Decimal(0) <= number <= HUNDRED:
        errors.add(field, f"{label}应在0到100之间")
    elif number != number.quantize(FEN):
        errors.add(field, f"{label}最多保留2位小数")
    return number


def _line(raw: object, at: str, errors: Errors) -> dict | None:
    """One valid line as {item_code, parameter, unit_price: Decimal, samples}."""
    if not isinstance(raw, Mapping):
        errors.add(at, "每项收费明细应为对象")
        return None
    before = len(errors)
    for key in sorted(set(raw) - set(LINE_FIELDS), key=str):
        errors.add(f"{at}.{key}", "不认识的字段")
    texts = {
        key: errors.check(require_text, raw.get(key), f"{at}.{key}", label, max_len)
        for key, (label, max_len) in TEXT_FIELDS.items()
    }
    field = f"{at}.unit_price"
    unit_price = _number(raw.get("unit_price"), field, "单价", errors)
    if unit_price is None:
        pass
    elif unit_price <= 0:
        errors.add(field, "单价应大于0")
    elif unit_price > MAX_UNIT_PRICE:
        errors.add(field, f"单价不能超过{MAX_UNIT_PRICE}元")
    elif unit_price != unit_price.quantize(PRICE_PLACES):
        errors.add(field, "单价最多保留4位小数")
    samples = raw.get("samples")
    if isinstance(samples, bool) or not isinstance(samples, int):
        errors.add(f"{at}.samples", "样品数量应为整数")
    elif not 1 <= samples <= MAX_SAMPLES:
        errors.add(f"{at}.samples", f"样品数量应在1到{MAX_SAMPLES}之间")
    if len(errors) > before:
        return None
    return {**texts, "unit_price": unit_price, "samples": samples}


def _lines(raw: object, errors: Errors) -> list[dict]:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        errors.add("lines", "收费明细应为列表")
        return []
    if not raw:
        errors.add("lines", "请至少填写一项收费明细")
    elif len(raw) > MAX_LINES:
        errors.add("lines", f"收费明细不能超过{MAX_LINES}项")
        return []
    return [
        line for i, r in enumerate(raw) if (line := _line(r, f"lines[{i}]", errors))
    ]


def volume_percent(samples: int) -> Decimal:
    """Percent off one line for its number of samples (rule 2)."""
    for threshold, percent in VOLUME_TIERS:
        if samples >= threshold:
            return percent
    return Decimal(0)


@dataclass(frozen=True)
class LinePrice:
    item_code: str
    parameter: str
    unit_price: Decimal
    samples: int
    amount: Decimal
    volume_discount_percent: Decimal
    volume_discount: Decimal

    def as_event(self) -> dict:
        """The line as the quote's events store it: the unit price as a string."""
        return _strings({key: getattr(self, key) for key in LINE_FIELDS})

    def as_dict(self) -> dict:
        return _strings({**self.__dict__, "net": self.amount - self.volume_discount})


def price_line(
    item_code: str, parameter: str, unit_price: Decimal, samples: int
) -> LinePrice:
    """Rules 1 and 2 for one valid line."""
    amount = fen(unit_price * samples)
    percent = volume_percent(samples)
    off = fen(amount * percent / HUNDRED)
    return LinePrice(item_code, parameter, unit_price, samples, amount, percent, off)


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[LinePrice, ...]
    customer_kind: str
    subtotal: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    green_channel: bool
    surcharge_percent: Decimal
    surcharge_waived: bool
    surcharge: Decimal
    total: Decimal

    def as_dict(self) -> dict:
        """Decimal amounts as strings, e.g. for JSON."""
        lines = [line.as_dict() for line in self.lines]
        return {**_strings(self.__dict__), "lines": lines}


def price(
    lines: Sequence,
    discount_percent: object = 0,
    customer_kind: str = "company",
    green_channel: bool = False,
    surcharge_percent: object = DEFAULT_SURCHARGE_PERCENT,
) -> Breakdown:
    """Price a quote by the module's rules; every bad input is named at once."""
    errors = Errors()
    parsed = _lines(lines, errors)
    discount = _percent(discount_percent, "discount_percent", "折扣比例", errors)
    surcharge_rate = _percent(
        surcharge_percent, "surcharge_percent", "加急费比例", errors
    )
    errors.check(
        require_choice, customer_kind, "customer_kind", "客户类型", CUSTOMER_KINDS
    )
    if not isinstance(green_channel, bool):
        errors.add("green_channel", "绿色通道应为是或否")
    errors.raise_if_any()
    priced = tuple(price_line(**line) for line in parsed)
    subtotal = sum((p.amount - p.volume_discount for p in priced), ZERO)
    discount_amount = fen(subtotal * discount / HUNDRED)
    discounted = subtotal - discount_amount
    waived = green_channel and customer_kind == "government"
    applies = green_channel and not waived
    surcharge = fen(discounted * surcharge_rate / HUNDRED) if applies else ZERO
    return Breakdown(
        priced,
        customer_kind,
        subtotal,
        discount,
        discount_amount,
        green_channel,
        surcharge_rate,
        waived,
        surcharge,
        discounted + surcharge,
    )


def _terms(breakdown: Breakdown) -> dict:
    """The event payload of one priced revision: amounts as strings."""
    return {
        "lines": [line.as_event() for line in breakdown.lines],
        "discount_percent": str(breakdown.discount_percent),
        "green_channel": breakdown.green_channel,
        "total": str(breakdown.total),
    }


class Quote(AuditedAggregate):
    """A versioned fee quote for one demand (5.3.1.5)."""

    @classmethod
    def draft(
        cls,
        demand_id: str,
        lines: Sequence,
        discount_percent: object = 0,
        customer_kind: str = "company",
        green_channel: bool = False,
        surcharge_percent: object = DEFAULT_SURCHARGE_PERCENT,
    ) -> Quote:
        demand_id = require_text(demand_id, "demand_id", "需求编号")
        priced = price(
            lines, discount_percent, customer_kind, green_channel, surcharge_percent
        )
        surcharge = str(priced.surcharge_percent)
        return cls(demand_id, customer_kind, surcharge, _terms(priced))

    @event("Drafted")
    def __init__(
        self, demand_id: str, customer_kind: str, surcharge_percent: str, terms: dict
    ):
        self.demand_id = demand_id
        self.customer_kind = customer_kind
        self.surcharge_percent = Decimal(surcharge_percent)
        self._apply(terms)
        self.revision = 1
        self.state = "drafted"
        self.withdrawal_reason = ""

    def _apply(self, terms: dict) -> None:
        self.lines = [dict(line) for line in terms["lines"]]
        self.discount_percent = Decimal(terms["discount_percent"])
        self.green_channel = terms["green_channel"]
        self.total = Decimal(terms["total"])

    def _require(self, states: set[str], action: str) -> None:
        if self.state not in states:
            raise QuoteStateError(f"报价当前为“{STATES[self.state]}”状态，不能{action}")

    def _price(self, lines, discount_percent, green_channel) -> Breakdown:
        kind, surcharge = self.customer_kind, self.surcharge_percent
        return price(lines, discount_percent, kind, green_channel, surcharge)

    def breakdown(self) -> dict:
        """The current revision's price breakdown (amounts as strings)."""
        priced = self._price(self.lines, self.discount_percent, self.green_channel)
        return priced.as_dict()

    def revise(
        self,
        lines: Sequence,
        discount_percent: object = None,
        green_channel: bool | None = None,
    ) -> None:
        """New terms; omitted discount or green channel keep their current value."""
        self._require({"drafted", "issued"}, "修订")
        if discount_percent is None:
            discount_percent = self.discount_percent
        if green_channel is None:
            green_channel = self.green_channel
        priced = self._price(lines, discount_percent, green_channel)
        self._revised(revision=self.revision + 1, terms=_terms(priced))

    @event("Revised")
    def _revised(self, revision: int, terms: dict):
        self._apply(terms)
        self.revision = revision
        self.state = "drafted"

    def issue(self) -> None:
        self._require({"drafted"}, "出具")
        self._issued(revision=self.revision, total=str(self.total))

    @event("Issued")
    def _issued(self, revision, total):
        self.state = "issued"

    def accept(self, revision: int) -> None:
        """The customer accepts the issued revision they were shown."""
        self._require({"issued"}, "接受")
        if revision != self.revision:
            raise QuoteStateError(
                f"报价已修订为第{self.revision}版，请确认最新版本后再接受"
            )
        self._accepted(revision=revision, total=str(self.total))

    @event("Accepted")
    def _accepted(self, revision, total):
        self.state = "accepted"

    def withdraw(self, reason: str = "") -> None:
        self._require({"drafted", "issued"}, "撤回")
        self._withdrawn(reason=optional_text(reason, "reason", "撤回原因", 500))

    @event("Withdrawn")
    def _withdrawn(self, reason):
        self.state = "withdrawn"
        self.withdrawal_reason = reason
