"""Fee quotes (5.3.1.5): priced to the fen, bad input named, versioned events."""

from decimal import Decimal

import pytest
from eventsourcing.application import Application

from services.catalog.quotes import Quote, QuoteStateError, price, to_decimal
from shared.errors import ValidationFailed


def line(unit_price="100", samples=1, item_code="JC-001", parameter="阻燃性能"):
    return {
        "item_code": item_code,
        "parameter": parameter,
        "unit_price": unit_price,
        "samples": samples,
    }


def lines(*pairs):
    return [line(p, n, item_code=f"JC-{i:03}") for i, (p, n) in enumerate(pairs)]


def fields_of(exc: ValidationFailed) -> set[str]:
    return {e["field"] for e in exc.errors}


def is_chinese(message: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in message)


GREEN = {"green_channel": True}
COMPANY_GREEN = {"customer_kind": "company", "green_channel": True}
GOV_GREEN = {"customer_kind": "government", "green_channel": True}

# (lines, terms, subtotal, discount amount, surcharge, total) — worked by hand.
CASES = {
    "one line": (lines(("120.50", 1)), {}, "120.50", "0.00", "0.00", "120.50"),
    # 0.125 rounds half up to 0.13 (half-even would give 0.12)
    "line half up at .005": (lines(("0.125", 1)), {}, "0.13", "0.00", "0.00", "0.13"),
    "product, then rounded": (lines(("1.0025", 2)), {}, "2.01", "0.00", "0.00", "2.01"),
    "9 samples: no volume": (lines(("100", 9)), {}, "900.00", "0.00", "0.00", "900.00"),
    "10 samples: 5% off": (lines(("100", 10)), {}, "950.00", "0.00", "0.00", "950.00"),
    "49 samples: 5% off": (
        lines(("100", 49)),
        {},
        "4655.00",
        "0.00",
        "0.00",
        "4655.00",
    ),
    "50 samples: 10% off": (
        lines(("100", 50)),
        {},
        "4500.00",
        "0.00",
        "0.00",
        "4500.00",
    ),
    # 100.10 × 5% = 5.005 → 5.01 off the line
    "volume discount half up": (
        lines(("10.01", 10)),
        {},
        "95.09",
        "0.00",
        "0.00",
        "95.09",
    ),
    # 0.10 × 5% = 0.005 → 0.01
    "discount half up": (
        lines(("0.10", 1)),
        {"discount_percent": 5},
        "0.10",
        "0.01",
        "0.00",
        "0.09",
    ),
    "contract discount 15%": (
        lines(("333.33", 1)),
        {"discount_percent": "15"},
        "333.33",
        "50.00",
        "0.00",
        "283.33",
    ),
    "fractional discount 12.5%": (
        lines(("80", 1)),
        {"discount_percent": Decimal("12.5")},
        "80.00",
        "10.00",
        "0.00",
        "70.00",
    ),
    "100% discount, green channel": (
        lines(("250.00", 2)),
        {"discount_percent": 100, **COMPANY_GREEN},
        "500.00",
        "500.00",
        "0.00",
        "0.00",
    ),
    "green channel, company": (
        lines(("1000", 1)),
        COMPANY_GREEN,
        "1000.00",
        "0.00",
        "300.00",
        "1300.00",
    ),
    "green channel waived for government": (
        lines(("1000", 1)),
        GOV_GREEN,
        "1000.00",
        "0.00",
        "0.00",
        "1000.00",
    ),
    "green channel, individual, 50% surcharge": (
        lines(("1000", 1)),
        {"customer_kind": "individual", "surcharge_percent": "50", **GREEN},
        "1000.00",
        "0.00",
        "500.00",
        "1500.00",
    ),
    # 0.15 × 30% = 0.045 → 0.05
    "surcharge half up": (
        lines(("0.15", 1)),
        COMPANY_GREEN,
        "0.15",
        "0.00",
        "0.05",
        "0.20",
    ),
    # 1900.00 + 1597.50 + 266.64; −10% 376.414→376.41; +30% of 3387.73 = 1016.319
    "combined: volume, discount, surcharge": (
        lines(("200", 10), ("35.5", 50), ("88.88", 3)),
        {"discount_percent": 10, **COMPANY_GREEN},
        "3764.14",
        "376.41",
        "1016.32",
        "4404.05",
    ),
    # 4999.50 − 499.95 = 4499.55; −5% 224.9775→224.98; surcharge waived
    "combined, government": (
        lines(("99.99", 50)),
        {"discount_percent": 5, **GOV_GREEN},
        "4499.55",
        "224.98",
        "0.00",
        "4274.57",
    ),
    "Decimal and int prices": (
        lines((Decimal("19.99"), 3), (7, 2)),
        {},
        "73.97",
        "0.00",
        "0.00",
        "73.97",
    ),
}


@pytest.mark.parametrize(
    "quote_lines, terms, subtotal, discount, surcharge, total",
    list(CASES.values()),
    ids=list(CASES),
)
def test_quotes_are_priced_to_the_fen(
    quote_lines, terms, subtotal, discount, surcharge, total
):
    breakdown = price(quote_lines, **terms)
    shown = breakdown.as_dict()
    assert (
        shown["subtotal"],
        shown["discount_amount"],
        shown["surcharge"],
        shown["total"],
    ) == (subtotal, discount, surcharge, total)
    assert breakdown.total == Decimal(total)
    assert breakdown.total.as_tuple().exponent == -2


def test_the_breakdown_shows_every_line_and_its_volume_discount():
    shown = price(
        lines(("200", 10), ("35.5", 50), ("88.88", 3)),
        discount_percent=10,
        **COMPANY_GREEN,
    ).as_dict()
    assert [(x["amount"], x["volume_discount"], x["net"]) for x in shown["lines"]] == [
        ("2000.00", "100.00", "1900.00"),
        ("1775.00", "177.50", "1597.50"),
        ("266.64", "0.00", "266.64"),
    ]
    assert [x["volume_discount_percent"] for x in shown["lines"]] == ["5", "10", "0"]
    assert shown["lines"][1]["unit_price"] == "35.5"
    assert shown["surcharge_percent"] == "30"
    assert shown["surcharge_waived"] is False


def test_the_government_waiver_is_shown():
    shown = price(lines(("1000", 1)), **GOV_GREEN).as_dict()
    assert shown["surcharge_waived"] is True
    assert shown["surcharge"] == "0.00"


# -- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_line, field",
    [
        (line(unit_price="0"), "lines[0].unit_price"),
        (line(unit_price="-5"), "lines[0].unit_price"),
        (line(unit_price="abc"), "lines[0].unit_price"),
        (line(unit_price="NaN"), "lines[0].unit_price"),
        (line(unit_price="0.00001"), "lines[0].unit_price"),
        (line(unit_price=None), "lines[0].unit_price"),
        (line(samples=0), "lines[0].samples"),
        (line(samples=-1), "lines[0].samples"),
        (line(samples=1.5), "lines[0].samples"),
        (line(samples="3"), "lines[0].samples"),
        (line(samples=True), "lines[0].samples"),
        (line(item_code=""), "lines[0].item_code"),
        (line(parameter="   "), "lines[0].parameter"),
        (line(parameter="参" * 201), "lines[0].parameter"),
        ({**line(), "price": "1"}, "lines[0].price"),
        ("not a line", "lines[0]"),
    ],
)
def test_a_bad_line_is_named_by_index_and_field(bad_line, field):
    with pytest.raises(ValidationFailed) as caught:
        price([bad_line])
    assert fields_of(caught.value) == {field}
    assert all(is_chinese(e["message"]) for e in caught.value.errors)


@pytest.mark.parametrize(
    "quote_lines",
    [[], [line()] * 201, "lines", {"0": line()}],
    ids=["empty", "201 lines", "a string", "a mapping"],
)
def test_no_lines_too_many_or_not_a_list_is_refused(quote_lines):
    with pytest.raises(ValidationFailed) as caught:
        price(quote_lines)
    assert fields_of(caught.value) == {"lines"}


def test_two_hundred_lines_are_accepted():
    assert price([line("1", 1)] * 200).total == Decimal("200.00")


@pytest.mark.parametrize(
    "terms, field",
    [
        ({"discount_percent": 101}, "discount_percent"),
        ({"discount_percent": "-1"}, "discount_percent"),
        ({"discount_percent": "10.005"}, "discount_percent"),
        ({"surcharge_percent": 150}, "surcharge_percent"),
        ({"customer_kind": "alien"}, "customer_kind"),
        ({"green_channel": "yes"}, "green_channel"),
    ],
)
def test_bad_terms_are_named(terms, field):
    with pytest.raises(ValidationFailed) as caught:
        price([line()], **terms)
    assert fields_of(caught.value) == {field}


def test_every_bad_field_is_named_at_once():
    bad = [line(), line(unit_price="0"), line(samples=0)]
    with pytest.raises(ValidationFailed) as caught:
        price(bad, discount_percent=200, customer_kind="x")
    assert fields_of(caught.value) == {
        "lines[1].unit_price",
        "lines[2].samples",
        "discount_percent",
        "customer_kind",
    }


def test_floats_are_a_type_error():
    with pytest.raises(TypeError):
        to_decimal(0.1)
    assert to_decimal("120.50") == Decimal("120.50")


@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: price([line(unit_price=120.5)]), "lines[0].unit_price"),
        (lambda: price([line()], discount_percent=10.0), "discount_percent"),
        (lambda: price([line()], surcharge_percent=30.0), "surcharge_percent"),
        (lambda: Quote.draft("D-1", [line(unit_price=0.1)]), "lines[0].unit_price"),
    ],
)
def test_floats_are_refused_naming_the_field(build, field):
    with pytest.raises(ValidationFailed) as caught:
        build()
    assert fields_of(caught.value) == {field}
    assert "浮点" in caught.value.errors[0]["message"]


# -- the quote and its events ---------------------------------------------------


def drafted(**terms) -> Quote:
    return Quote.draft("D-2024-0001", [line("1000", 1)], **terms)


def test_a_drafted_quote_carries_its_demand_and_total():
    quote = drafted(**COMPANY_GREEN)
    assert (quote.demand_id, quote.state, quote.revision) == (
        "D-2024-0001",
        "drafted",
        1,
    )
    assert quote.total == Decimal("1300.00")
    assert quote.breakdown()["surcharge"] == "300.00"


def test_a_quote_needs_a_demand():
    with pytest.raises(ValidationFailed) as caught:
        Quote.draft(" ", [line()])
    assert fields_of(caught.value) == {"demand_id"}


def test_events_store_amounts_as_strings():
    quote = drafted(discount_percent=Decimal("7.5"))
    (created,) = quote.collect_events()
    assert type(created).__name__ == "Drafted"
    assert created.terms["lines"][0]["unit_price"] == "1000"
    assert created.terms["discount_percent"] == "7.5"
    assert created.terms["total"] == "925.00"
    assert created.surcharge_percent == "30"


def test_issue_revise_reissue_accept():
    quote = drafted()
    quote.issue()
    quote.revise([line("1000", 10)], discount_percent=10)
    assert (quote.state, quote.revision) == ("drafted", 2)
    assert quote.total == Decimal("8550.00")  # 10000 − 5% = 9500, − 10%
    quote.issue()
    quote.accept(revision=2)
    assert quote.state == "accepted"
    names = [type(e).__name__ for e in quote.collect_events()]
    assert names == ["Drafted", "Issued", "Revised", "Issued", "Accepted"]


def test_a_revision_keeps_terms_it_does_not_change():
    quote = drafted(discount_percent=10, **COMPANY_GREEN)
    quote.revise([line("100", 1)])
    assert quote.discount_percent == Decimal(10)
    assert quote.green_channel is True
    assert quote.total == Decimal("117.00")  # 100 − 10% = 90, + 30%


def test_revising_after_acceptance_is_refused():
    quote = drafted()
    quote.issue()
    quote.accept(revision=1)
    with pytest.raises(QuoteStateError) as caught:
        quote.revise([line("1", 1)])
    assert "已接受" in str(caught.value)
    assert quote.total == Decimal("1000.00")


def test_only_an_issued_quote_can_be_accepted():
    quote = drafted()
    with pytest.raises(QuoteStateError):
        quote.accept(revision=1)


def test_a_stale_revision_cannot_be_accepted():
    quote = drafted()
    quote.issue()
    quote.revise([line("900", 1)])
    quote.issue()
    with pytest.raises(QuoteStateError) as caught:
        quote.accept(revision=1)
    assert "第2版" in str(caught.value)


def test_issuing_twice_is_refused():
    quote = drafted()
    quote.issue()
    with pytest.raises(QuoteStateError):
        quote.issue()


@pytest.mark.parametrize(
    "command",
    [
        lambda q: q.issue(),
        lambda q: q.revise([line()]),
        lambda q: q.accept(revision=1),
        lambda q: q.withdraw(),
    ],
    ids=["issue", "revise", "accept", "withdraw"],
)
def test_a_withdrawn_quote_takes_no_further_commands(command):
    quote = drafted()
    quote.withdraw("客户取消委托")
    assert quote.withdrawal_reason == "客户取消委托"
    with pytest.raises(QuoteStateError):
        command(quote)


def test_an_accepted_quote_cannot_be_withdrawn():
    quote = drafted()
    quote.issue()
    quote.accept(revision=1)
    with pytest.raises(QuoteStateError):
        quote.withdraw()


def test_a_refused_command_records_nothing():
    quote = drafted()
    version = quote.version
    with pytest.raises(ValidationFailed):
        quote.revise([line(unit_price="-1")])
    assert (quote.version, quote.revision, quote.total) == (version, 1, Decimal(1000))
    assert len(quote.collect_events()) == 1


def test_a_quote_reconstructed_from_its_events_has_the_same_total():
    quote = Quote.draft(
        "D-2024-0002",
        lines(("200", 10), ("35.5", 50)),
        discount_percent="12.5",
        customer_kind="individual",
        green_channel=True,
    )
    quote.issue()
    quote.revise(lines(("200", 10), ("35.5", 50), ("88.88", 3)), discount_percent=10)
    quote.issue()
    quote.accept(revision=2)
    app = Application()
    app.save(quote)
    copy = app.repository.get(quote.id)
    assert copy.total == quote.total == Decimal("4404.05")
    assert copy.breakdown() == quote.breakdown()
    assert (copy.state, copy.revision, copy.demand_id) == (
        "accepted",
        2,
        "D-2024-0002",
    )
