"""Parser and checker: syntax, references, types, arity, contexts, positions and carets.

What an admin sees when a formula is wrong: the message, line, column and caret line.
"""

from __future__ import annotations

import pytest
from formula_harness import CATALOG, checked

from metabiz.errors import FormulaError
from metabiz.formulas import DictCatalog, FieldSpec, FType, check, parse
from metabiz.formulas import nodes as n
from metabiz.formulas.parser import MAX_NESTING


def error_of(source: str, **kwargs: object) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        checked(source, **kwargs)  # type: ignore[arg-type]
    return caught.value


# -- syntax ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "message", "line", "column"), [
    ("1 +", "the formula ends too early: expected an expression or a closing ')'", 1, 4),
    ("ROUND(1, 2", "the formula ends too early", 1, 11),
    ("1 + * 2", "unexpected '*'", 1, 5),
    ("amount amount", "unexpected 'amount': an operator or ',' is missing before it", 1, 8),
    ("IF(TRUE 1, 2)", "unexpected '1': an operator or ',' is missing before it", 1, 9),
    ('"abc', "unterminated string", 1, 1),
    ("'abc\" + 1", "unterminated string", 1, 1),
    ("1 # 2", "unexpected character '#'", 1, 3),
    ("1 +\n  )", "unexpected ')'", 2, 3),
    ("\n\n  amount ** 2", "unexpected '*'", 3, 11),
    ("", "the formula is empty", 1, 1),
    ("   \n ", "the formula is empty", 1, 1),
    ("/* only a comment */", "the formula ends too early", 1, 21),
    ("1 /* never closed", "unterminated comment: /* needs a closing */", 1, 3),
    ("1 + 2 /* a */ /* b", "unterminated comment", 1, 15),
    ("4 / 2 * 3 = 6 && 1 /*", "unterminated comment", 1, 20),
    ("(1 + 2))", "unexpected ')'", 1, 8),
    ("a..b", "unexpected '.'", 1, 3),
    ("1 = = 2", "unexpected '='", 1, 5),
    ("客户 + 1", "unexpected character '客'", 1, 1),
])
def test_syntax_errors_say_what_and_where(source: str, message: str, line: int,
                                          column: int) -> None:
    err = error_of(source)
    assert err.kind == "syntax"
    assert err.message.startswith(message)
    assert (err.line, err.column) == (line, column)


def test_render_puts_a_caret_under_the_column() -> None:
    err = error_of("amount + * 2")
    assert err.render() == "1:10: unexpected '*'\namount + * 2\n         ^"


def test_render_shows_the_offending_line_of_a_multiline_formula() -> None:
    err = error_of("IF(\n  amount > 0,\n  amont,\n  0)")
    assert err.render() == "3:3: unknown field 'amont' on deal\n  amont,\n  ^"
    assert err.to_dict()["error"] == {"code": "formula_error",
                                      "message": "unknown field 'amont' on deal",
                                      "line": 3, "column": 3, "kind": "check"}


def test_evaluation_errors_have_no_position_and_render_as_the_message() -> None:
    err = FormulaError("division by zero", kind="eval")
    assert err.render() == "division by zero"
    assert err.caret() == ""


def test_too_long_and_too_deep_formulas_are_refused() -> None:
    assert error_of("1+" * 6000 + "1").message.startswith("the formula is longer than")
    deep = error_of("-" * (MAX_NESTING + 5) + "1")
    assert deep.kind == "syntax" and "nested too deeply" in deep.message
    assert error_of("IF(TRUE," * 60 + "1" + ",2)" * 60).message.startswith(
        "the formula is nested too deeply")


def test_number_literals_from_10_26_on_are_check_errors_at_their_position() -> None:
    err = error_of("amount + 1" + "0" * 26)  # 10^26
    assert err.kind == "check" and (err.line, err.column) == (1, 10)
    assert err.message == "the number is too large (formulas work with numbers below 10^26)"
    assert checked("amount + " + "9" * 26).type is FType.NUMBER  # 10^26 - 1
    assert checked("0." + "0" * 40 + "1 > 0").type is FType.BOOLEAN  # small is fine


def test_regex_patterns_are_checked_with_re2() -> None:
    assert error_of('REGEX(name, "(a)\\\\1")').message.startswith("REGEX: invalid pattern")
    assert error_of('REGEX(name, "(?=a)")').message.startswith("REGEX: invalid pattern")
    assert checked('REGEX(name, "\\\\pL+ [0-9]{2,}")').type is FType.BOOLEAN


def test_the_deepest_allowed_formula_compiles_and_runs() -> None:
    from formula_harness import run_python, sql_resolver
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql, sqlite

    from metabiz.formulas import compile_sql
    source = "ROUND(" * (MAX_NESTING - 2) + "amount" + ", 2)" * (MAX_NESTING - 2)
    formula = checked(source)
    assert str(run_python(formula)) == "1250.50"
    assert "round" in str(select(compile_sql(formula, sql_resolver(), "postgresql"))
                          .compile(dialect=postgresql.dialect()))
    # SQLite's parser stops at about 30 nested calls: a clear error at the innermost one
    # instead of "parser stack overflow" when the query runs
    with pytest.raises(FormulaError) as refused:
        compile_sql(formula, sql_resolver(), "sqlite")
    assert refused.value.kind == "sql" and "too deeply" in refused.value.message
    assert (refused.value.line, refused.value.column) == (1, 1 + 6 * (MAX_NESTING - 2))
    shallow = checked("ROUND(" * 20 + "amount" + ", 2)" * 20)
    assert "round" in str(select(compile_sql(shallow, sql_resolver(), "sqlite"))
                          .compile(dialect=sqlite.dialect()))


# -- the AST ---------------------------------------------------------------------------------

def test_parse_builds_nodes_with_spans() -> None:
    tree = parse("1 + amount * 2")
    assert isinstance(tree, n.Binary) and tree.op == "+"
    assert isinstance(tree.right, n.Binary) and tree.right.op == "*"
    assert tree.right.left == n.FieldRef(n.Span(1, 5, 1, 11), ("amount",))
    assert tree.span.column == 1


@pytest.mark.parametrize(("source", "shape"), [
    ("1 || 2 && 3", ("||", 1, ("&&", 2, 3))),
    ("1 && 2 = 3", ("&&", 1, ("=", 2, 3))),
    ("1 = 2 + 3", ("=", 1, ("+", 2, 3))),
    ("1 + 2 * 3", ("+", 1, ("*", 2, 3))),
    ("1 * 2 ^ 3", ("*", 1, ("^", 2, 3))),
    ("2 ^ 3 ^ 4", ("^", 2, ("^", 3, 4))),
    ("1 - 2 - 3", ("-", ("-", 1, 2), 3)),
    ("1 & 2 + 3", ("+", ("&", 1, 2), 3)),
    ("-2 ^ 2", ("^", ("-", 2), 2)),
    ("1 == 2", ("=", 1, 2)), ("1 != 2", ("<>", 1, 2)),
])
def test_precedence_and_associativity(source: str, shape: object) -> None:
    def shape_of(node: n.Expr) -> object:
        if isinstance(node, n.Binary):
            return (node.op, shape_of(node.left), shape_of(node.right))
        if isinstance(node, n.Unary):
            return (node.op, shape_of(node.operand))
        assert isinstance(node, n.Number)
        return int(node.value)

    assert shape_of(parse(source)) == shape


@pytest.mark.parametrize("source", [
    "if(true, 1, 2)", "If(True, 1, 2)", "IF (TRUE, 1, 2)", "IF\n(TRUE, 1, 2)",
    "iF( tRuE , 1 , 2 )", "IF(/* why */ TRUE, 1, 2)",
])
def test_function_names_and_keywords_are_case_insensitive(source: str) -> None:
    formula = checked(source)
    assert formula.type is FType.NUMBER
    assert isinstance(formula.expr, n.Call) and formula.expr.name == "IF"


@pytest.mark.parametrize(("source", "value"), [
    ('"tab\\there"', "tab\there"), ('"line\\nbreak"', "line\nbreak"),
    ("'double \" inside'", 'double " inside'), ('"single \' inside"', "single ' inside"),
    ('"back\\\\slash"', "back\\slash"), ('"unknown \\q escape"', "unknown q escape"),
    ("'中文 \\'引号\\''", "中文 '引号'"),
])
def test_string_literals_in_both_quote_styles_with_escapes(source: str, value: str) -> None:
    tree = parse(source)
    assert isinstance(tree, n.String) and tree.value == value


# -- references ------------------------------------------------------------------------------

def test_unknown_fields_are_named_with_their_object() -> None:
    err = error_of("amont + 1")
    assert (err.kind, err.message, err.line, err.column) == (
        "check", "unknown field 'amont' on deal", 1, 1)
    assert error_of("1 + account.nme").message == "unknown field 'nme' on account"
    assert error_of("account.parent.zzz").message == "unknown field 'zzz' on account"
    assert error_of("name.first").message == "name is not a lookup, so 'first' cannot follow it"


def test_references_cross_up_to_ten_lookups() -> None:
    ten = "account." + ".".join(["parent"] * 9) + ".name"
    assert checked(ten).references == frozenset({tuple(ten.split("."))})
    eleven = "account." + ".".join(["parent"] * 10) + ".name"
    err = error_of(eleven)
    assert err.message == "a reference may cross at most 10 lookups"
    assert (err.line, err.column) == (1, 1)


def test_references_lists_every_path_read() -> None:
    formula = checked("IF(ISBLANK(discount), amount, account.revenue)")
    assert formula.references == {("discount",), ("amount",), ("account", "revenue")}
    assert checked("1 + 2").references == frozenset()


# -- types -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "message", "column"), [
    ('amount + "x"', "+ cannot be used with number and text", 10),
    ("name * 2", "* cannot be used with text and number", 1),
    ("close + close", "+ cannot be used with date and date", 1),
    ("start - close", "- cannot be used with datetime and date", 1),
    ("active + 1", "+ cannot be used with boolean and number", 1),
    ("name & amount", "& joins text, got number; use TEXT() to turn a number into text", 8),
    ("!amount", "! needs boolean, got number", 2),
    ("-name", "- needs number, got text", 2),
    ("amount && TRUE", "&& needs true/false values, got number", 1),
    ("TRUE || name", "|| needs true/false values, got text", 9),
    ("amount < active", "< cannot compare boolean values", 10),
    ("tags > tags", "> cannot compare multi-picklist values", 1),
    ("close = start", "cannot compare date with datetime", 9),
    ('amount = "1"', "cannot compare number with text", 10),
    ("IF(1, 2, 3)", "argument 1 of IF must be boolean, got number", 4),
    ("IF(TRUE, 1, \"a\")", "IF results must all have the same type: number and text", 13),
    ("LEN(amount)", "argument 1 of LEN must be text, got number", 5),
    ("ROUND(name, 2)", "argument 1 of ROUND must be number, got text", 7),
    ("ROUND(1, TRUE)", "argument 2 of ROUND must be number, got boolean", 10),
    ("YEAR(name)", "argument 1 of YEAR must be date or datetime, got text", 6),
    ("HOUR(close)", "argument 1 of HOUR must be datetime or time, got date", 6),
    ('ISPICKVAL(name, "x")', "argument 1 of ISPICKVAL must be picklist, got text", 11),
    ('INCLUDES(stage, "x")', "argument 1 of INCLUDES must be multi-picklist, got picklist", 10),
    ("AND(TRUE, 1)", "argument 2 of AND must be boolean, got number", 11),
    ('CASE(amount, "a", 1, 2)', "argument 2 of CASE must be number, got text", 14),
    ('CASE(stage, "a", 1, "b", "x", 2)', "CASE results must all have the same type", 26),
    ("BLANKVALUE(amount, name)", "BLANKVALUE results must all have the same type", 20),
    ("DATEVALUE(1)", "argument 1 of DATEVALUE must be datetime or text, got number", 11),
    ('REGEX(name, "(")', "REGEX: invalid pattern: missing ): (", 13),  # RE2's words
])
def test_type_errors_say_what_was_expected_and_found(source: str, message: str,
                                                     column: int) -> None:
    err = error_of(source)
    assert err.kind == "check"
    assert err.message.startswith(message)
    assert (err.line, err.column) == (1, column)


def test_the_expected_result_type_is_checked() -> None:
    with pytest.raises(FormulaError) as caught:
        check("amount * 2", CATALOG, "deal", expected=FType.BOOLEAN)
    assert caught.value.message == "the formula must give boolean, but gives number"
    assert check("stage", CATALOG, "deal", expected=FType.TEXT).type is FType.PICKLIST
    assert check("NULL", CATALOG, "deal", expected=FType.DATE).type is FType.NULL


@pytest.mark.parametrize(("source", "ftype"), [
    ("1", FType.NUMBER), ('"a"', FType.TEXT), ("TRUE", FType.BOOLEAN), ("NULL", FType.NULL),
    ("close + 1", FType.DATE), ("start - 1.5", FType.DATETIME), ("close - close", FType.NUMBER),
    ("finish - start", FType.NUMBER), ("1 + close", FType.DATE), ("stage", FType.PICKLIST),
    ('IF(TRUE, stage, "x")', FType.TEXT), ("tags", FType.MULTI_PICKLIST),
    ('name + "x"', FType.TEXT), ("NULL + 1", FType.NUMBER), ("ADDMONTHS(start, 1)", FType.DATETIME),
    ("account.founded", FType.DATE), ("TEXT(close)", FType.TEXT), ("NULL & NULL", FType.TEXT),
    ("TIMEVALUE(start)", FType.TIME), ("remind + 1", FType.TIME), ("1 + remind", FType.TIME),
    ("remind - remind", FType.NUMBER), ("GEOLOCATION(1, 2)", FType.LOCATION),
    ('HYPERLINK("/", "x")', FType.LINK), ('IMAGE("/", "x")', FType.IMAGE),
    ("EOMONTH(start, 1)", FType.DATE), ("WORKDAY(start, 1)", FType.DATE),
    ("VLOOKUP(account.founded, account.id, 1)", FType.DATE), ("TEXT(remind)", FType.TEXT),
    ('IF(TRUE, HYPERLINK("/", "a"), NULL)', FType.LINK), ("FROMUNIXTIME(0)", FType.DATETIME),
    ('IFS(FALSE, stage, TRUE, "x")', FType.TEXT), ("ISNULL(name)", FType.BOOLEAN),
])
def test_result_types(source: str, ftype: FType) -> None:
    assert checked(source).type is ftype


# -- functions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "message"), [
    ("IF(TRUE, 1)", "IF expects 3 arguments, got 2"),
    ("IF(TRUE, 1, 2, 3)", "IF expects 3 arguments, got 4"),
    ("TRUNC()", "TRUNC expects 1 to 2 arguments, got 0"),
    ("AND()", "AND expects at least 1 argument, got 0"),
    ("TODAY(1)", "TODAY expects 0 arguments, got 1"),
    ("CASE(stage, 1, 2)", "CASE expects at least 4 arguments, got 3"),
    ('CASE(stage, "a", 1, "b", 2)', "CASE takes an expression, pairs of value and result, and "
                                    "an else result (an even number of arguments), got 5"),
    ("FOO(1)", "unknown function FOO"),
    ("foo (1)", "unknown function FOO"),
])
def test_arity_and_unknown_functions(source: str, message: str) -> None:
    err = error_of(source)
    assert (err.kind, err.message, err.line, err.column) == ("check", message, 1, 1)


@pytest.mark.parametrize("source", ["ISCHANGED(amount)", "PRIORVALUE(amount) > 1", "ISNEW()"])
@pytest.mark.parametrize("context", ["field", "default", "filter"])
def test_prior_value_functions_only_in_validation_and_conditions(source: str,
                                                                  context: str) -> None:
    err = error_of(source, context=context)
    assert err.kind == "check"
    assert err.message.endswith("can only be used in validation rules and automation or "
                                "flow conditions")


@pytest.mark.parametrize("context", ["validation", "condition"])
def test_prior_value_functions_in_validation_and_conditions(context: str) -> None:
    formula = checked("ISCHANGED(amount) && PRIORVALUE(amount) > 1", context=context)
    assert formula.uses_prior and not formula.sql_capable
    assert error_of("ISCHANGED(account.name)", context=context).message == \
        "ISCHANGED takes a field of this object"
    assert error_of("PRIORVALUE(1 + 1)", context=context).message == \
        "PRIORVALUE takes a field of this object"


def test_unknown_context_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown formula context"):
        check("1", CATALOG, "deal", context="sort")


def test_sql_capable_says_whether_a_formula_can_filter_in_the_database() -> None:
    assert checked("amount * 2 > 10 && CONTAINS(name, \"x\")").sql_capable
    assert checked("2 ^ 3").sql_capable
    assert not checked('VALUE("1") > 0').sql_capable
    assert not checked('DATEVALUE("2020-01-01") > close').sql_capable
    assert checked("DATEVALUE(start) > close").sql_capable


def test_blanks_as_zero_is_carried_to_the_back_ends() -> None:
    assert checked("discount + 1", blanks_as_zero=True).blanks_as_zero
    assert not checked("discount + 1").blanks_as_zero


# -- the second round's functions: messages at the offending argument -------------------------

@pytest.mark.parametrize(("source", "message", "at"), [
    ('DISTANCE(GEOLOCATION(1, 2), GEOLOCATION(3, 4), "m")',
     'the unit of DISTANCE must be "km" or "mi"', '"m"'),
    ("DISTANCE(GEOLOCATION(1, 2), GEOLOCATION(3, 4), name)",
     "the unit of DISTANCE must be written as text in quotes", "name"),
    ('DISTANCE(1, GEOLOCATION(3, 4), "km")', "argument 1 of DISTANCE must be location, got number",
     "1"),
    ("GEOLOCATION(1, 2) = GEOLOCATION(1, 2)",
     '= cannot compare location values; compare DISTANCE(a, b, "km") with a number', "GEO"),
    ('HYPERLINK(site, "x") <> NULL',
     "<> cannot compare link values; compare their URLs: TEXT(link)", "HYPER"),
    ('HYPERLINK(site, "x") < "a"', "< cannot compare link values", "HYPER"),
    ('NETWORKDAYS(close, TODAY(), "us")',
     "unknown calendar 'us' (calendars are declared in app.json under \"calendars\")", '"us"'),
    ("WORKDAY(close, 1, name)", "the calendar of WORKDAY must be written as text in quotes",
     "name"),
    ("WORKDAY(close, close)", "argument 2 of WORKDAY must be number, got date", "close)"),
    ("NETWORKDAYS(1, close)", "argument 1 of NETWORKDAYS must be date or datetime, got number",
     "1"),
    ('DATEDIF(close, TODAY(), "W")', 'the unit of DATEDIF must be "Y", "M" or "D"', '"W"'),
    ('TEXT(amount, "abc")', 'TEXT: a number format needs 0 or # (as in "#,##0.00")', '"abc"'),
    ("TEXT(amount, name)", "the format of TEXT must be written as text in quotes", "name"),
    ('TEXT(name, "0.00")',
     "argument 1 of TEXT must be date or datetime or number or time, got text", "name"),
    ('TEXT(remind, "YYYY")', "TEXT: a time of day has no year, month or day: use HH, mm and ss",
     '"YYYY"'),
    ('TEXT(amount, "0.0.0")', "TEXT: after the decimal point a number format takes only 0 and #",
     '"0.0.0"'),
    ("VLOOKUP(nothing.name, nothing.id, 1)", "unknown object 'nothing'", "nothing.name"),
    ("VLOOKUP(account.nme, account.id, 1)", "unknown field 'nme' on account", "account.nme"),
    ("VLOOKUP(account.name, deal.id, 1)",
     "the key field must be on account, the object VLOOKUP reads", "deal.id"),
    ("VLOOKUP(name, account.id, 1)", "argument 1 of VLOOKUP must be the field to read of "
                                     "another object, written object.field", "name"),
    ('VLOOKUP(account.name, account.id, "x")', "argument 3 of VLOOKUP must be number, got text",
     '"x"'),
    ("IFS(TRUE, 1, FALSE)",
     "IFS takes pairs of test and value (an even number of arguments), got 3", "IFS"),
    ("IFS(1, 2)", "argument 1 of IFS must be boolean, got number", "1"),
    ('IFS(TRUE, 1, TRUE, "a")', "IFS results must all have the same type: number and text",
     '"a"'),
    ("FORMATDURATION(start)",
     "FORMATDURATION of a datetime needs an end: FORMATDURATION(start, end)", "FORMAT"),
    ("FORMATDURATION(start, remind)", "argument 2 of FORMATDURATION must be datetime, got time",
     "remind"),
    ("FORMATDURATION(1, 2)", "argument 2 of FORMATDURATION must be boolean, got number", "2"),
    ("remind + close", "+ cannot be used with time and date", "remind"),
    ("remind * 2", "* cannot be used with time and number", "remind"),
    ("CASE(GEOLOCATION(1, 2), 1, 2, 3)", "argument 1 of CASE must be boolean or date", "GEO"),
    ("TIMEVALUE(close)", "argument 1 of TIMEVALUE must be datetime or text, got date", "close"),
    ('CHR("a")', "argument 1 of CHR must be number, got text", '"a"'),
    ("UNIXTIMESTAMP(name)", "argument 1 of UNIXTIMESTAMP must be date or datetime or time, "
                            "got text", "name"),
    ("ISOWEEK(remind)", "argument 1 of ISOWEEK must be date or datetime, got time", "remind"),
])
def test_new_functions_report_the_offending_argument(source: str, message: str,
                                                     at: str) -> None:
    err = error_of(source)
    assert err.kind == "check"
    assert err.message.startswith(message)
    assert (err.line, err.column) == (1, source.index(at) + 1)
    assert err.render().splitlines()[-1] == " " * source.index(at) + "^"


class FieldsOnly:
    """A catalog from before calendars: it knows fields, nothing else."""

    def field(self, object_name: str, field_name: str) -> FieldSpec | None:
        return CATALOG.field(object_name, field_name)


def test_calendars_come_from_the_catalog() -> None:
    formula = check('WORKDAY(close, 1, "cn")', CATALOG, "deal")
    calendar = formula.expr.args[2]  # type: ignore[attr-defined]
    assert isinstance(calendar, n.Constant) and calendar.value.name == "cn"
    with pytest.raises(FormulaError, match="unknown calendar 'cn'"):
        check('WORKDAY(close, 1, "cn")', FieldsOnly(), "deal")
    assert check("WORKDAY(close, 1)", FieldsOnly(), "deal").type is FType.DATE
    with pytest.raises(FormulaError, match="unknown calendar 'cn'"):
        check('NETWORKDAYS(close, close, "cn")', DictCatalog({"deal": {
            "close": FieldSpec("close", FType.DATE)}}), "deal")


def test_vlookup_reads_are_listed_apart_from_this_objects_references() -> None:
    formula = checked('VLOOKUP(account.revenue, account.tier, name) > 0')
    assert formula.lookups == {("account", "revenue", "tier")}
    assert formula.references == {("name",)}
    assert formula.sql_capable
