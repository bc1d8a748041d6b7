"""Hypothesis against every route: no input gives a 5xx, and no typed answer is ever lost.

The routes come from `app.url_map`, so a new endpoint is fuzzed without touching this file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, unquote_to_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Rule, UUIDConverter
from werkzeug.test import TestResponse, encode_multipart
from wtforms.fields.core import UnboundField

from intake import bootstrap, clock, demo, health
from intake.errors import NOT_ECHOED
from intake.reports import journey
from intake.reports.forms import CheckForm

from .reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# For tests that walk several steps per example.
FUZZ_FEW = settings(FUZZ, max_examples=30)
SUMMARY = "Det finns ett problem"
EXPIRED = "Sidan har gått ut"
CHARACTERS = "Texten innehåller tecken som inte går att spara"
# A reflected value must come back escaped: these must never appear as markup.
MARKERS = ("<x-fuzz", "<script>alert")
ANSWER_SETS = (PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT)
SLUGS = [step.slug for step in journey.STEPS]


def _field_names(form: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(form, lambda v: isinstance(v, UnboundField))}


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def every_field_name() -> list[str]:
    """The fields of every form the app has imported (the journey's first), and the token."""
    names = {name for form in _subclasses(FlaskForm) for name in _field_names(form)}
    return sorted(names | set(JOURNEY_FIELDS) | {"csrf_token"})


STEP_FIELDS = {step.slug: sorted(_field_names(step.form)) for step in journey.STEPS}
JOURNEY_FIELDS = sorted(
    {name for names in STEP_FIELDS.values() for name in names} | _field_names(CheckForm)
)

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200)
NASTY = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><x-fuzz onmouseover=alert(1)>',
        "'><x-fuzz>",
        "\x00",
        "\u202egnp.exe",
        "\r\n\r\nSet-Cookie: x=1",
        "{{ 7 * 7 }}",
        "%(x)s %s",
        "' OR 1=1 --",
        "../../../etc/passwd",
        "ja",
        "nej",
        "vet_ej",
        "barn",
        "vuxen",
        "privat",
        "yrkesverksam",
        "19121212-1212",
        "2012-03-17",
        "omsorgssvikt",
    ]
)


def _repeat(sizes: list[int]) -> st.SearchStrategy[str]:
    return st.builds(lambda ch, n: ch * n, st.sampled_from("xå<\x00 "), st.sampled_from(sizes))


# Around the length limits (200, 8000), and past the form memory limit (256 KiB): 413.
LONG = _repeat([201, 8001, 70_000])
OVERSIZE = st.builds(lambda n: "x" * n, st.sampled_from([300_000, 600_000]))
SMALL_VALUE = st.one_of(TEXT, NASTY, LONG)
VALUE = st.one_of(TEXT, NASTY, LONG, OVERSIZE)
# Deferred: the other domains' forms are imported when the first app is built.
NAME = st.one_of(
    st.sampled_from(JOURNEY_FIELDS),
    st.deferred(lambda: st.sampled_from(every_field_name())),
    st.text(max_size=30),
)
# Repeated names make lists (several values for one key).
PAIRS = st.lists(st.tuples(NAME, VALUE), max_size=12)
# Past each length rule but, encoded, under MAX_CONTENT_LENGTH: the body must be read back.
ECHO_PAIRS = st.lists(st.tuples(NAME, st.one_of(TEXT, NASTY, _repeat([201, 8001]))), max_size=8)
FORM_TYPES = st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data"])
RAW_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=fuzz",
        "application/json",
        "text/plain",
        "",
    ]
)
ODD_SEGMENTS = ["\x00", "a\x00b", "..", "%00", "%", " ", "x" * 300, "' OR 1=1 --", "<x-fuzz>"]
# Ids past the 32- and 64-bit column ranges, as well as ordinary ones.
ODD_IDS = [0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30]
SEGMENT = st.one_of(
    st.sampled_from(ODD_SEGMENTS),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
)
IDS = st.one_of(st.sampled_from(ODD_IDS), st.integers(min_value=0, max_value=2**70))
QUERY = st.lists(st.tuples(st.one_of(NAME, st.just("next")), st.one_of(TEXT, NASTY)), max_size=4)


def _known_values(app: Flask) -> dict[str, list[Any]]:
    return {
        "slug": [*SLUGS, "granska", "kvitto"],
        "code": list(app.config["LANGUAGES"]),
        "filename": ["intake.css", "print.css", "../config.py", "intake.css/"],
    }


def _segment(name: str, converter: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    if isinstance(converter, IntegerConverter):
        # Ids 1 and 2 exist once the demo content is in (dialogues, commitments, users).
        base: st.SearchStrategy[Any] = st.one_of(st.sampled_from([1, 2]), IDS)
    elif isinstance(converter, UUIDConverter):
        base = st.uuids()
    else:
        base = SEGMENT
    return st.one_of(st.sampled_from(known[name]), base) if name in known else base


def rules(app: Flask, method: str) -> list[Rule]:
    """The app's rules that answer `method`, in a stable order."""
    return sorted(
        (r for r in app.url_map.iter_rules() if method in (r.methods or set())),
        key=lambda r: r.rule,
    )


def draw_path(data: st.DataObject, app: Flask, method: str) -> tuple[Rule, str]:
    """A rule answering `method` and a concrete path for it, arguments known or random."""
    rule = data.draw(st.sampled_from(rules(app, method)), label="rule")
    known = _known_values(app)
    values = {
        name: data.draw(_segment(name, converter, known), label=name)
        for name, converter in rule._converters.items()
    }
    built = rule.build(values, append_unknown=False)
    assert built is not None
    return rule, built[1]


def routes(app: Flask, path: str, method: str) -> bool:
    """Whether the path reaches a view (CSRF is checked only after routing)."""
    try:
        app.url_map.bind("localhost").match(unquote(path), method=method)
    except HTTPException:
        return False
    return True


def is_form_page(rule: Rule) -> bool:
    """A step or check page: a 200 after a POST means the form had errors."""
    return rule.endpoint in {"reports.step", "reports.check"}


def check_response(rule: Rule, response: TestResponse) -> None:
    """No server error; a re-shown form has the error summary; nothing reflected raw."""
    assert response.status_code < 500, (rule.rule, response.status_code)
    html = response.get_data(as_text=True)
    if response.status_code == 200 and is_form_page(rule):
        assert SUMMARY in html, rule.rule
    for marker in MARKERS:
        assert marker not in html, (rule.rule, marker)


def draw_body(data: st.DataObject, pairs: st.SearchStrategy[Any] = PAIRS) -> dict[str, Any]:
    """Keyword arguments for client.post: a form (urlencoded or multipart) or raw bytes."""
    if data.draw(st.booleans(), label="raw"):
        return {
            "data": data.draw(st.binary(max_size=2000), label="bytes"),
            "content_type": data.draw(RAW_TYPES, label="content_type"),
        }
    return form_body(data.draw(pairs, label="pairs"), data.draw(FORM_TYPES, label="content_type"))


def form_body(pairs: list[tuple[str, str]], content_type: str) -> dict[str, Any]:
    """Keyword arguments for client.post that send these pairs with this encoding."""
    if content_type == "multipart/form-data":
        # Encoded in memory: the test client would spill big bodies to a temporary file
        # that it never closes (a ResourceWarning, which is an error here).
        boundary, body = encode_multipart(MultiDict(pairs))
        return {"data": body, "content_type": f'multipart/form-data; boundary="{boundary}"'}
    return {"data": MultiDict(pairs), "content_type": content_type}


def walk_some(client: FlaskClient, data: st.DataObject) -> None:
    """Answer the first few steps of one of the helper answer sets."""
    answers = data.draw(st.sampled_from(ANSWER_SETS), label="answer_set")
    count = data.draw(st.integers(min_value=0, max_value=len(answers)), label="steps_done")
    for slug, fields in list(answers.items())[:count]:
        response = client.post(f"/orosanmalan/{slug}", data=fields)
        assert response.status_code == 302, (slug, response.status_code)


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest app (CSRF off) with demo dialogues, reports and activities to reach, and a
    worker that beat at the start (so /readyz answers 200, not its deliberate 503)."""
    with app.app_context():
        demo.add_demo_content()
        health.beat("fuzz", started_at=clock.now(), now=clock.now())
    app.config["WORKER_STALE_SECONDS"] = 24 * 3600
    return app


@pytest.fixture
def csrf_app(make_app: Callable[..., Flask]) -> Flask:
    """The app as deployed: CSRF on, default inboxes set up."""
    application = make_app()
    assert application.config.get("WTF_CSRF_ENABLED", True)
    with application.app_context():
        bootstrap.run_setup()
    return application


@FUZZ
@given(data=st.data())
def test_any_post_to_any_endpoint_is_never_a_server_error(app: Flask, data: st.DataObject) -> None:
    """Random fields, values and raw bodies on every POST route: never a 5xx."""
    rule, path = draw_path(data, app, "POST")
    granska = data.draw(st.sampled_from(["", "?granska=1"]), label="query")
    response = app.test_client().post(path + granska, **draw_body(data))
    check_response(rule, response)


@FUZZ_FEW
@given(data=st.data())
def test_posts_with_a_draft_in_progress_are_never_a_server_error(
    app: Flask, data: st.DataObject
) -> None:
    """The same fuzzing after walking the first steps, so the draft is loaded and merged."""
    client = app.test_client()
    walk_some(client, data)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="posts")):
        rule, path = draw_path(data, app, "POST")
        check_response(rule, client.post(path, **draw_body(data)))
    # The journey still works afterwards: the check page (or the step it sends us to) answers.
    response = client.get("/orosanmalan/granska", follow_redirects=True)
    assert response.status_code == 200


@FUZZ_FEW
@given(data=st.data())
def test_fuzzed_answers_through_a_whole_journey_are_never_a_server_error(
    app: Flask, data: st.DataObject
) -> None:
    """Valid answers with some fields fuzzed, walked to the end and sent."""
    answers = {
        slug: dict(fields) for slug, fields in data.draw(st.sampled_from(ANSWER_SETS)).items()
    }
    slug = data.draw(st.sampled_from(sorted(answers)), label="fuzzed_step")
    names = st.sampled_from(STEP_FIELDS[slug])
    changes = data.draw(st.dictionaries(names, SMALL_VALUE, min_size=1, max_size=4))
    answers[slug].update(changes)
    client = app.test_client()
    for step, fields in answers.items():
        response = client.post(f"/orosanmalan/{step}", data=fields)
        # 413: the fuzzed values together are past MAX_CONTENT_LENGTH; 400: a control
        # character, refused with everything typed kept (intake.textguard).
        assert response.status_code in {200, 302, 400, 413}, (step, response.status_code)
        if response.status_code == 200:
            # The fuzzed value was refused: the page explains why and keeps the answers.
            assert SUMMARY in response.get_data(as_text=True)
        if response.status_code == 400:
            assert CHARACTERS in response.get_data(as_text=True)
        if response.status_code != 302:
            return
    response = client.post("/orosanmalan/granska", data={"confirm": "ja"})
    # 303 = sent; 302 = a branch (e.g. now a child) needs a step the answer set lacks.
    assert response.status_code in {302, 303}, response.status_code
    html = client.get(response.location).get_data(as_text=True)
    for marker in MARKERS:
        assert marker not in html


@FUZZ
@given(data=st.data())
def test_any_get_is_never_a_server_error(app: Flask, data: st.DataObject) -> None:
    """Every GET route with random path segments and query strings: never a 5xx."""
    client = app.test_client()
    walk_some(client, data)
    _rule, path = draw_path(data, app, "GET")
    if data.draw(st.booleans(), label="extra_segment"):
        path = path.rstrip("/") + "/" + quote(data.draw(SEGMENT, label="extra"), safe="")
    query = data.draw(QUERY, label="query")
    with client.get(path, query_string=query) as response:
        assert response.status_code < 500, (path, query, response.status_code)


def test_get_fuzzing_covers_every_get_route(app: Flask) -> None:
    """The GET fuzz draws from every rule; each has a concrete sample path that answers."""
    client = app.test_client()
    for rule in rules(app, "GET"):
        known = _known_values(app)
        values = {name: known.get(name, ["1"])[0] for name in rule.arguments}
        built = rule.build(values, append_unknown=False)
        assert built is not None
        with client.get(built[1]) as response:
            assert response.status_code < 500, rule.rule


def test_odd_values_in_every_url_argument_are_never_a_server_error(app: Flask) -> None:
    """A table, not a draw: each odd id or segment in each argument of each rule."""
    client = app.test_client()
    client.post("/orosanmalan/om-dig", data=PRIVATE_ANONYMOUS_CHILD["om-dig"])
    for method in ("GET", "POST"):
        for rule in rules(app, method):
            for name, converter in rule._converters.items():
                odd = ODD_IDS if isinstance(converter, IntegerConverter) else ODD_SEGMENTS
                for value in odd:
                    values = {n: _first_value(app, n, c) for n, c in rule._converters.items()}
                    built = rule.build({**values, name: value}, append_unknown=False)
                    assert built is not None
                    with client.open(built[1], method=method, data={"x": "1"}) as response:
                        assert response.status_code < 500, (method, built[1])


def _first_value(app: Flask, name: str, converter: Any) -> Any:
    if isinstance(converter, IntegerConverter):
        return 1
    return _known_values(app).get(name, ["x"])[0]


@FUZZ
@given(data=st.data())
def test_without_csrf_token_every_post_keeps_the_answers(
    csrf_app: Flask, data: st.DataObject
) -> None:
    """CSRF on, no token: 400 "Sidan har gått ut", every posted field echoed back escaped."""
    client = csrf_app.test_client()
    rule, path = draw_path(data, csrf_app, "POST")
    assume(routes(csrf_app, path, "POST"))
    pairs = data.draw(ECHO_PAIRS, label="pairs")
    response = client.post(path, data=MultiDict(pairs))
    assert response.status_code == 400, (rule.rule, response.status_code)
    html = response.get_data(as_text=True)
    assert EXPIRED in html
    assert f'<form method="post" action="{escape(unquote(path))}">' in html
    for name, value in pairs:
        if name in NOT_ECHOED:
            assert f'name="{escape(name)}" value="{escape(value)}"' not in html
            continue
        assert f'name="{escape(name)}" value="{escape(value)}"' in html, (name, value)
    for marker in MARKERS:
        assert marker not in html


@FUZZ
@given(data=st.data())
def test_without_csrf_token_raw_bodies_get_the_expired_page(
    csrf_app: Flask, data: st.DataObject
) -> None:
    """CSRF on, raw or malformed bodies: the friendly 400 page, never a 5xx."""
    rule, path = draw_path(data, csrf_app, "POST")
    assume(routes(csrf_app, path, "POST"))
    body = {
        "data": data.draw(st.binary(max_size=2000), label="bytes"),
        "content_type": data.draw(RAW_TYPES, label="content_type"),
    }
    response = csrf_app.test_client().post(path, **body)
    assert response.status_code == 400, (rule.rule, response.status_code)
    assert EXPIRED in response.get_data(as_text=True)


# --- each class of bad input, on every route, for every kind of visitor ------------------------
# Issue 10 §5: NUL, C0 controls, invalid UTF-8, CR/LF in one-line fields, huge integers and
# out-of-range dates each gave a 500 somewhere. Each class is generated for every GET and POST
# rule, anonymous and signed in as each role; a refused value is a 4xx, never a 5xx.

ROLES = ("anonymous", "admin", "caseworker", "organiser", "partner")
FUZZ_CLASS = settings(FUZZ, max_examples=20, derandomize=True)
SHORT = st.text(alphabet="abcåäö 19-:", max_size=12)
C0 = [chr(c) for c in range(32) if chr(c) not in "\t\n\r"]
# Percent-escapes that are no UTF-8: a lone continuation byte, an overlong NUL, a surrogate.
BAD_UTF8 = ["%FF", "%C0%80", "%ED%A0%80", "%E2%82", "%F8%88%80%80%80"]
FORM_BODY = "application/x-www-form-urlencoded"
QUERY_NAMES = ["sida", "ar", "inkorg", "next", "vem", "handelse", "objekt", "fran", "till"]


def _inserted(chars: list[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda a, c, b: a + c + b, SHORT, st.sampled_from(chars), SHORT)


CLASSES: dict[str, st.SearchStrategy[str]] = {
    "nul": _inserted(["\x00"]),
    "c0": _inserted(C0),
    "crlf": _inserted(["\r\n", "\n", "\r", "\r\nBcc: x@example.org\r\n"]),
    "huge-integer": st.sampled_from(
        ["9" * 30, str(2**63), str(2**31), "-" + "9" * 25, "1e400", "0", "-1"]
    ),
    "out-of-range-date": st.sampled_from(
        [
            "0001-01-01 00:30",
            "0001-01-01T00:30",
            "9999-12-31 23:59",
            "0001-01-01",
            "9999-12-31",
            "1999-12-31",
            "2101-01-01",
            "0000-00-00",
        ]
    ),
}


@pytest.fixture
def visitors(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app (CSRF off) with demo content, and a signed-in session cookie per role."""
    from .accounts.back_office import cookie, fast_passwords, install

    fast_passwords(monkeypatch)
    installation = install(make_app)
    app = installation.app
    with app.app_context():
        demo.add_demo_content()
        # A worker that beat at the start: /readyz answers 200, not its deliberate 503.
        health.beat("fuzz", started_at=clock.now(), now=clock.now())
    app.config["WORKER_STALE_SECONDS"] = 24 * 3600
    cookies: dict[str, str | None] = {"anonymous": None}
    for role in ROLES[1:]:
        email = f"fuzz-{role}@alvsbyn.invalid"
        inboxes = ("Barn och unga", "Vuxna") if role in {"admin", "caseworker"} else ()
        installation.add_user(email, role, inboxes=inboxes)
        client = app.test_client()
        installation.login(client, email)
        cookies[role] = cookie(client)
    return app, cookies


def _client(app: Flask, cookies: dict[str, str | None], role: str) -> FlaskClient:
    from .accounts.back_office import client_with

    value = cookies[role]
    return app.test_client() if value is None else client_with(app, value)


def _fuzzable(rule: Rule) -> bool:
    # Signing out would end the role's session for the examples after it.
    return rule.endpoint != "staff_auth.logout"


def _draw_visit(data: st.DataObject, app: Flask, method: str) -> tuple[str, Rule, str]:
    role = data.draw(st.sampled_from(ROLES), label="role")
    rule, path = draw_path(data, app, method)
    assume(_fuzzable(rule))
    return role, rule, path


@pytest.mark.parametrize("name", sorted(CLASSES))
@FUZZ_CLASS
@given(data=st.data())
def test_each_bad_class_in_a_query_string_is_never_a_server_error(
    visitors: Any, name: str, data: st.DataObject
) -> None:
    """Every GET and POST rule, each role, the class's values in query parameters."""
    app, cookies = visitors
    method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
    role, rule, path = _draw_visit(data, app, method)
    names = st.one_of(st.sampled_from(QUERY_NAMES), st.deferred(lambda: NAME))
    query = data.draw(st.lists(st.tuples(names, CLASSES[name]), min_size=1, max_size=3))
    client = _client(app, cookies, role)
    with client.open(path, method=method, query_string=query) as response:
        assert response.status_code < 500, (role, method, rule.rule, query)


@pytest.mark.parametrize("name", sorted(CLASSES))
@FUZZ_CLASS
@given(data=st.data())
def test_each_bad_class_in_a_form_is_never_a_server_error(
    visitors: Any, name: str, data: st.DataObject
) -> None:
    """Every POST rule, each role, the class's values in the form's own fields (all of them
    filled, so the value reaches the field's validators and the service)."""
    app, cookies = visitors
    role, rule, path = _draw_visit(data, app, "POST")
    fields = every_field_name()
    targets = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4), label="bad")
    pairs = [(field, data.draw(CLASSES[name], label=field)) for field in targets]
    content_type = data.draw(FORM_TYPES, label="content_type")
    response = _client(app, cookies, role).post(path, **form_body(pairs, content_type))
    assert response.status_code < 500, (role, rule.rule, pairs)
    if name in {"nul", "c0"} and response.status_code == 400:
        assert CHARACTERS in response.get_data(as_text=True)


@FUZZ_CLASS
@given(data=st.data())
def test_invalid_utf8_in_a_query_or_a_body_is_never_a_server_error(
    visitors: Any, data: st.DataObject
) -> None:
    """Raw percent-escapes that decode to no UTF-8 (an overlong NUL among them), in the query
    string and in an urlencoded or multipart body, every rule and role."""
    app, cookies = visitors
    method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
    role, rule, path = _draw_visit(data, app, method)
    name = data.draw(st.sampled_from([*QUERY_NAMES, *every_field_name()]), label="name")
    escape_ = data.draw(st.sampled_from(BAD_UTF8), label="escape")
    raw = f"{quote(name)}=a{escape_}b"
    client = _client(app, cookies, role)
    where = data.draw(st.sampled_from(["query", "urlencoded", "multipart"]), label="where")
    if where == "query" or method == "GET":
        response = client.open(f"{path}?{raw}", method=method)
    elif where == "urlencoded":
        response = client.post(
            path, data=raw.encode(), content_type="application/x-www-form-urlencoded"
        )
    else:
        body = (
            f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + unquote_to_bytes(escape_)
            + b"\r\n--b--\r\n"
        )
        response = client.post(path, data=body, content_type="multipart/form-data; boundary=b")
    with response:
        assert response.status_code < 500, (role, method, rule.rule, where, raw)


SAMPLES = {
    "nul": "a\x00b",
    "c0": "a\x1bb\x07",
    "crlf": "a\r\nBcc: x@example.org",
    "huge-integer": "9" * 30,
    "out-of-range-date": "0001-01-01 00:30",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_route_takes_each_bad_class_in_every_field_and_parameter(
    visitors: Any, name: str
) -> None:
    """A sweep, not a draw: every GET and POST rule once (the role taking turns), with the
    class's value in every known query parameter and, on a POST, in every form field."""
    app, cookies = visitors
    value = SAMPLES[name]
    query = [(key, value) for key in QUERY_NAMES]
    form = [(field, value) for field in every_field_name() if field != "csrf_token"]
    for method in ("GET", "POST"):
        for number, rule in enumerate(r for r in rules(app, method) if _fuzzable(r)):
            role = ROLES[number % len(ROLES)]
            values = {n: _first_value(app, n, c) for n, c in rule._converters.items()}
            built = rule.build(values, append_unknown=False)
            assert built is not None
            client = _client(app, cookies, role)
            body = {"data": MultiDict(form)} if method == "POST" else {}
            with client.open(built[1], method=method, query_string=query, **body) as response:
                assert response.status_code < 500, (role, method, rule.rule)
            if method == "POST":
                with client.post(built[1], data=MultiDict(form)) as response:
                    assert response.status_code < 500, (role, method, rule.rule)
