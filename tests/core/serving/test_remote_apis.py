"""``RemoteScorer``'s three APIs (``crossrank``, ``tei``, ``cohere``) against a real loopback server (:mod:`http_stub`).

Each API must rank exactly as the core does over the stub's scores, send what its API reads and nothing else,
map its API's error bodies to the typed errors, and refuse an answer its API could not give.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from http_stub import StubServer, answer, ranked_pairs, text_score

from crossrank_harness.ports import free_loopback_port
from rerank_core import (
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    RemoteScorer,
    RemoteScorerError,
    ServiceUnavailableError,
)
from rerank_core.ranking import select
from rerank_core.serving.wire import APIS

TEXTS = ["a" * n for n in (3, 9, 1, 7, 5, 8, 5, 2)]  # the stub scores a text by its length; two tie at 5
KEY = "sk-Zq8v3Xk1_t0ken"


def expected_ranking(texts: list[str], rules: dict) -> list[tuple[int, float]]:
    """The core's ranking of ``texts`` by the stub's scores and ``rules``: the window first, then the rest."""
    window = texts[: rules.get("rank_window_size") or len(texts)]
    scores = np.array([text_score(text) for text in window])
    return ranked_pairs(select(scores, top_n=rules.get("top_n"), min_score=rules.get("min_score")))


def sent(stub: StubServer) -> tuple[str, dict]:
    """The path and JSON body of the last request the stub received."""
    request = stub.received[-1]
    return request.path, json.loads(request.body)


# --- the same ranking, whichever API -------------------------------------------------------------------------------

RULES = {
    "no rules": {},
    "top_n": {"top_n": 3},
    "top_n past the end": {"top_n": 50},
    "min_score": {"min_score": 5.0},
    "min_score above all": {"min_score": 100.0},
    "window": {"rank_window_size": 5},
    "window past the end": {"rank_window_size": 50},
    "all three": {"rank_window_size": 7, "min_score": 2.5, "top_n": 3},
    "top_n cuts a tie": {"top_n": 5},
    "min_score and top_n": {"min_score": 3.0, "top_n": 10},
}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("rules", RULES.values(), ids=RULES.keys())
async def test_every_api_ranks_as_the_core_does(stub, api, rules):
    scorer = RemoteScorer(stub.url, api=api)
    expected = expected_ranking(TEXTS, rules)
    assert ranked_pairs(scorer.rank("q", TEXTS, **rules)) == expected
    assert ranked_pairs(await scorer.arank("q", TEXTS, **rules)) == expected


@pytest.mark.parametrize("api", APIS)
async def test_every_api_scores_every_text_in_input_order(stub, api):
    scorer = RemoteScorer(stub.url, api=api)
    expected = [text_score(text) for text in TEXTS]
    np.testing.assert_array_equal(scorer.score("q", TEXTS), expected)
    np.testing.assert_array_equal(await scorer.ascore("q", TEXTS), expected)


@pytest.mark.parametrize("api", APIS)
async def test_nothing_to_score_and_bad_input_never_reach_the_server(stub, api):
    scorer = RemoteScorer(stub.url, api=api)
    assert scorer.rank("q", []) == [] and scorer.rank("q", TEXTS, top_n=0) == []
    with pytest.raises(InvalidQueryError):
        scorer.rank("", TEXTS)
    with pytest.raises(InvalidTextError):
        await scorer.arank("q", ["a", 3])
    assert stub.received == []


# --- what each API sends -------------------------------------------------------------------------------------------


def test_tei_sends_only_the_query_and_the_window_s_texts(stub):
    scorer = RemoteScorer(stub.url, api="tei")
    scorer.rank("q", TEXTS, rank_window_size=3, min_score=2.0, top_n=1)
    assert sent(stub) == ("/rerank", {"query": "q", "texts": TEXTS[:3]})
    scorer.rank("q", TEXTS)
    assert sent(stub) == ("/rerank", {"query": "q", "texts": TEXTS})


def test_crossrank_sends_the_rules_it_was_given_and_no_defaults(stub):
    scorer = RemoteScorer(stub.url)
    scorer.rank("q", TEXTS, rank_window_size=3, min_score=2.0, top_n=1)
    assert sent(stub) == ("/rerank", {"query": "q", "texts": TEXTS[:3], "min_score": 2.0, "top_n": 1})
    scorer.rank("q", TEXTS, top_n=np.int64(2))
    assert sent(stub) == ("/rerank", {"query": "q", "texts": TEXTS, "top_n": 2})
    scorer.rank("q", TEXTS)
    assert sent(stub) == ("/rerank", {"query": "q", "texts": TEXTS})  # no window, raw_scores, truncate...


def test_cohere_sends_the_model_when_given_and_top_n_never_min_score(stub):
    scorer = RemoteScorer(stub.url, api="cohere", model="rerank-v3.5")
    scorer.rank("q", TEXTS, rank_window_size=3, min_score=2.0, top_n=1)
    assert sent(stub) == ("/v2/rerank", {"model": "rerank-v3.5", "query": "q", "documents": TEXTS[:3], "top_n": 1})
    scorer.rank("q", TEXTS)
    assert sent(stub) == ("/v2/rerank", {"model": "rerank-v3.5", "query": "q", "documents": TEXTS})
    RemoteScorer(stub.url, api="cohere").rank("q", TEXTS, top_n=2)
    assert sent(stub) == ("/v2/rerank", {"query": "q", "documents": TEXTS, "top_n": 2})


async def test_crossrank_sends_the_instruction_of_the_call_else_of_the_scorer(stub):
    scorer = RemoteScorer(stub.url, instruction="Find the abstract that supports the claim")
    scorer.rank("q", TEXTS[:2])
    assert sent(stub)[1] == {
        "query": "q",
        "texts": TEXTS[:2],
        "instruction": "Find the abstract that supports the claim",
    }
    await scorer.ascore("q", TEXTS[:2], instruction="Judge relevance")
    assert sent(stub)[1]["instruction"] == "Judge relevance"
    RemoteScorer(stub.url).score("q", TEXTS[:2])
    assert "instruction" not in sent(stub)[1]


@pytest.mark.parametrize("api", ["tei", "cohere"])
async def test_an_instruction_is_refused_where_the_api_has_no_field_for_it(stub, api):
    with pytest.raises(InvalidArgumentError, match="api='crossrank'"):
        RemoteScorer(stub.url, api=api, instruction="Judge relevance")
    scorer = RemoteScorer(stub.url, api=api)
    with pytest.raises(InvalidArgumentError, match="api='crossrank'"):
        scorer.rank("q", TEXTS, instruction="Judge relevance")
    with pytest.raises(InvalidArgumentError, match="api='crossrank'"):
        await scorer.ascore("q", TEXTS, instruction="Judge relevance")
    with pytest.raises(InvalidArgumentError, match="non-blank"):
        RemoteScorer(stub.url, instruction="  ")
    assert stub.received == []


@pytest.mark.parametrize(("api", "path"), [("crossrank", "/rerank"), ("tei", "/rerank"), ("cohere", "/v2/rerank")])
def test_each_api_keeps_the_url_s_path_prefix(stub, api, path):
    scorer = RemoteScorer(stub.url + "/gateway/reranker/", api=api)
    assert [hit.index for hit in scorer.rank("q", TEXTS, top_n=2)] == [1, 5]
    assert stub.received[-1].path == "/gateway/reranker" + path
    assert scorer.health()["status"] == "ok"
    assert stub.received[-1].path == "/gateway/reranker/health"


# --- api_key -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
async def test_api_key_is_sent_as_a_bearer_token_on_every_request(stub, api):
    scorer = RemoteScorer(stub.url, api=api, api_key=KEY, headers={"X-Tenant": "t"})
    scorer.rank("q", TEXTS)
    await scorer.arank("q", TEXTS)
    scorer.health()
    assert len(stub.received) == 3
    for request in stub.received:
        assert (request.headers["authorization"], request.headers["x-tenant"]) == (f"Bearer {KEY}", "t")
    assert "authorization" not in RemoteScorer(stub.url, api=api).headers


@pytest.mark.parametrize("api", APIS)
async def test_api_key_is_never_in_repr_or_in_a_message(stub, api):
    model = {"model": "rerank-v3.5"} if api == "cohere" else {}
    scorer = RemoteScorer(stub.url, api=api, api_key=KEY, **model)
    assert KEY not in repr(scorer) and KEY not in str(vars(scorer).get("headers"))
    messages = []
    echoes = [  # servers that echo the request's Authorization header back
        answer(401, f"Authorization: Bearer {KEY} is not a known key".encode(), content_type="text/plain"),
        answer(403, {"id": "x", "message": f"key {KEY} is revoked"}),
        answer(422, {"error": f"bad key {KEY}", "error_type": "Validation", "kind": "InvalidArgumentError"}),
        answer(500, {"error": ("x" * 1990) + KEY, "error_type": "Backend"}),
        answer(500, b" " * 1990 + KEY.encode(), content_type="text/plain"),  # the key across the cut of the text
        answer(503, {"message": KEY}),
        answer(200, {"not": KEY}),  # malformed
    ]
    for reply in echoes:
        stub.reply = reply
        with pytest.raises(RemoteScorerError if reply is not echoes[2] else InvalidArgumentError) as caught:
            scorer.rank("q", TEXTS)
        messages.append(str(caught.value))
        with pytest.raises((RemoteScorerError, InvalidArgumentError)) as caught:
            await scorer.arank("q", TEXTS)
        messages.append(str(caught.value))
    with pytest.raises(ServiceUnavailableError) as caught:
        RemoteScorer(f"http://127.0.0.1:{free_loopback_port()}", api=api, api_key=KEY, retries=0).rank("q", TEXTS)
    messages.append(str(caught.value))
    assert all(KEY not in message and KEY[:8] not in message for message in messages), messages
    assert any("<api_key>" in message for message in messages)  # an echoed key reads as a placeholder


# --- each API's error shapes ---------------------------------------------------------------------------------------

TEI_ERROR = {"error": "Input validation error: `texts` cannot be empty", "error_type": "Validation"}
API_ERRORS = {
    "Cohere 422 message": (
        422,
        {"id": "0a1b", "message": "invalid request: top_n must be positive"},
        InvalidArgumentError,
        "422.*top_n must be positive",
    ),
    "Cohere 400 message without id": (400, {"message": "model not found"}, InvalidArgumentError, "400.*model not"),
    "Cohere 401 bad key": (401, {"id": "x", "message": "invalid api token"}, RemoteScorerError, "401.*API key.*token"),
    "Cohere 429": (429, {"message": "trial key rate limit"}, ServiceUnavailableError, "429.*rate limit"),
    "Cohere 500": (500, {"id": "x", "message": "internal"}, RemoteScorerError, "500.*internal"),
    "TEI 422 without kind": (422, TEI_ERROR, InvalidArgumentError, "422.*cannot be empty"),
    "TEI 413": (413, {"error": "batch size 40 > maximum allowed batch size 32", "error_type": "Validation"},
                InvalidArgumentError, "413.*batch size"),
    "TEI 429 overloaded": (429, {"error": "Model is overloaded", "error_type": "Overloaded"},
                           ServiceUnavailableError, "429.*overloaded"),
    "TEI 424 backend": (424, {"error": "inference failed", "error_type": "Backend"},
                        RemoteScorerError, "failed \\(424\\): inference"),
    "TEI 401 empty body": (401, b"", RemoteScorerError, "401.*API key"),
    "crossrank 422 InvalidQueryError": (
        422, {**TEI_ERROR, "error": "The query is blank", "kind": "InvalidQueryError"}, InvalidQueryError, "blank"),
    "crossrank 422 InvalidTextError": (
        422, {**TEI_ERROR, "error": "texts[1] is None", "kind": "InvalidTextError"}, InvalidTextError, "texts"),
    "crossrank 401 Unauthorized": (
        401, {"error": "unauthorized", "error_type": "Unauthorized", "kind": "Unauthorized"},
        RemoteScorerError, "401.*API key"),
    "an error not a string": (422, {"error": {"message": "nested"}}, InvalidArgumentError, "422.*nested"),
    "a message not a string": (422, {"message": 3}, InvalidArgumentError, "422"),
}  # fmt: skip


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("status", "error_body", "kind", "match"), API_ERRORS.values(), ids=API_ERRORS.keys())
async def test_each_api_s_error_bodies_raise_typed_errors(stub, api, status, error_body, kind, match):
    stub.reply = answer(status, error_body)
    scorer = RemoteScorer(stub.url, api=api, retries=2)
    with pytest.raises(kind, match=match) as sync_caught:
        scorer.rank("q", TEXTS)
    with pytest.raises(kind, match=match) as async_caught:
        await scorer.arank("q", TEXTS)
    for caught in (sync_caught, async_caught):
        assert type(caught.value) is kind
        assert len(str(caught.value)) < 1000 and str(caught.value).isprintable()
        if kind in (RemoteScorerError, ServiceUnavailableError):
            assert caught.value.status == status
    assert len(stub.received) == 2


@pytest.mark.parametrize("api", ["tei", "cohere"])
@pytest.mark.parametrize("health_body", [b"", b"ok", b'{"status": "ok", "model": "m"}'])
def test_health_of_tei_and_cohere_is_any_2xx(stub, api, health_body):
    stub.reply = answer(200, health_body, content_type="text/plain")
    assert RemoteScorer(stub.url, api=api).health() == {"status": "ok"}
    assert stub.received[-1].method == "GET" and stub.received[-1].path == "/health"
    stub.reply = answer(503, b"")
    with pytest.raises(ServiceUnavailableError, match="503"):
        RemoteScorer(stub.url, api=api).health()
    stub.reply = answer(401, b"")
    with pytest.raises(RemoteScorerError, match="401.*API key"):
        RemoteScorer(stub.url, api=api).health()


# --- answers each API must not give --------------------------------------------------------------------------------


def tei(*pairs: tuple[object, object]) -> list[dict[str, object]]:
    return [{"index": index, "score": score} for index, score in pairs]


def cohere(*pairs: tuple[object, object], **fields: object) -> dict[str, object]:
    results = [{"index": index, "relevance_score": score} for index, score in pairs]
    return {"id": "x", "results": results, "meta": {"api_version": {"version": "2"}}, **fields}


THREE = ["a", "bb", "ccc"]
MALFORMED = {
    "tei: a text missing": ("tei", tei((2, 3.0), (1, 2.0)), {}),
    "tei: a text missing under top_n": ("tei", tei((2, 3.0)), {"top_n": 1}),
    "tei: no results": ("tei", [], {}),
    "tei: a repeated index": ("tei", tei((2, 3.0), (1, 2.0), (2, 3.0)), {}),
    "tei: an index past the end": ("tei", tei((3, 3.0), (1, 2.0), (0, 1.0)), {}),
    "tei: a negative index": ("tei", tei((2, 3.0), (1, 2.0), (-1, 1.0)), {}),
    "tei: a result too many": ("tei", tei((2, 3.0), (1, 2.0), (0, 1.0), (0, 1.0)), {}),
    "tei: a score a string": ("tei", tei((2, "3"), (1, 2.0), (0, 1.0)), {}),
    "tei: an object": ("tei", {"results": tei((2, 3.0), (1, 2.0), (0, 1.0))}, {}),
    "tei: Cohere's answer": ("tei", cohere((2, 3.0), (1, 2.0), (0, 1.0)), {}),
    "cohere: not sorted": ("cohere", cohere((1, 2.0), (2, 3.0), (0, 1.0)), {}),
    "cohere: worst first": ("cohere", cohere((0, 1.0), (1, 2.0), (2, 3.0)), {}),
    "cohere: longer than top_n": ("cohere", cohere((2, 3.0), (1, 2.0)), {"top_n": 1}),
    "cohere: every text, past top_n": ("cohere", cohere((2, 3.0), (1, 2.0), (0, 1.0)), {"top_n": 2}),
    "cohere: fewer than top_n": ("cohere", cohere((2, 3.0)), {"top_n": 2}),
    "cohere: a text left out": ("cohere", cohere((2, 3.0), (1, 2.0)), {}),
    "cohere: no results": ("cohere", cohere(), {}),
    "cohere: a repeated index": ("cohere", cohere((2, 3.0), (2, 3.0), (0, 1.0)), {}),
    "cohere: an index past the end": ("cohere", cohere((3, 3.0), (1, 2.0), (0, 1.0)), {}),
    "cohere: an index a float": ("cohere", cohere((2.0, 3.0), (1, 2.0), (0, 1.0)), {}),
    "cohere: a score a string": ("cohere", cohere((2, "3.0"), (1, 2.0), (0, 1.0)), {}),
    "cohere: a score a bool": ("cohere", cohere((2, True), (1, 2.0), (0, 1.0)), {}),
    "cohere: no relevance_score": ("cohere", {"results": tei((2, 3.0), (1, 2.0), (0, 1.0))}, {}),
    "cohere: no results field": ("cohere", {"id": "x", "meta": {}}, {}),
    "cohere: TEI's list": ("cohere", tei((2, 3.0), (1, 2.0), (0, 1.0)), {}),
    "crossrank: every text, past top_n": ("crossrank", tei((2, 3.0), (1, 2.0), (0, 1.0)), {"top_n": 1}),
    "crossrank: a score below min_score": ("crossrank", tei((2, 3.0), (1, 2.0), (0, 1.0)), {"min_score": 2.5}),
}


@pytest.mark.parametrize(("api", "answer_body", "rules"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_an_answer_the_api_could_not_give_is_malformed(stub, api, answer_body, rules):
    stub.reply = answer(200, answer_body)
    scorer = RemoteScorer(stub.url, api=api)
    with pytest.raises(RemoteScorerError, match="malformed") as caught:
        scorer.rank("q", THREE, **rules)
    assert type(caught.value) is RemoteScorerError and caught.value.status == 200
    with pytest.raises(RemoteScorerError, match="malformed") as caught:
        await scorer.arank("q", THREE, **rules)
    assert type(caught.value) is RemoteScorerError and str(caught.value).isprintable()
    assert ("/v2/rerank" if api == "cohere" else "/rerank") in str(caught.value)


NON_NAN = [
    b'[{"index": 2, "score": NaN}, {"index": 1, "score": 2.0}, {"index": 0, "score": 1.0}]',
    b'{"results": [{"index": 2, "relevance_score": Infinity}, {"index": 1, "relevance_score": 2.0}, '
    b'{"index": 0, "relevance_score": 1.0}]}',
]


@pytest.mark.parametrize(("api", "answer_body"), [("tei", NON_NAN[0]), ("cohere", NON_NAN[1])], ids=["tei", "cohere"])
def test_a_score_that_is_not_finite_is_malformed(stub, api, answer_body):
    stub.reply = answer(200, answer_body)
    with pytest.raises(RemoteScorerError, match="malformed"):
        RemoteScorer(stub.url, api=api).rank("q", THREE)


# --- answers each API may give -------------------------------------------------------------------------------------


def test_tei_may_answer_in_any_order_and_is_ranked_here(stub):
    stub.reply = answer(200, [{"index": 0, "score": 0.1}, {"index": 1, "score": 0.9, "text": "bb"}, tei((2, 0.5))[0]])
    scorer = RemoteScorer(stub.url, api="tei")
    assert ranked_pairs(scorer.rank("q", THREE)) == [(1, 0.9), (2, 0.5), (0, 0.1)]
    assert ranked_pairs(scorer.rank("q", THREE, top_n=1)) == [(1, 0.9)]
    assert ranked_pairs(scorer.rank("q", THREE, min_score=0.3)) == [(1, 0.9), (2, 0.5)]


def test_cohere_answers_with_extra_fields_or_none_and_ties_in_any_order(stub):
    results = [
        {"index": 2, "relevance_score": 0.5, "document": {"text": "ccc"}},
        {"index": 0, "relevance_score": 0.5},  # a tie, out of input order
        {"index": 1, "relevance_score": 0.25},
    ]
    scorer = RemoteScorer(stub.url, api="cohere")
    for body in (
        {"id": "x", "results": results, "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}},
        {"results": results},  # Cohere-compatible servers that send no id or meta
        {"id": "y", "model": "m", "usage": {"total_tokens": 9}, "results": results},
    ):
        stub.reply = answer(200, body)
        assert ranked_pairs(scorer.rank("q", THREE)) == [(0, 0.5), (2, 0.5), (1, 0.25)]  # ties in input order
        assert ranked_pairs(scorer.rank("q", THREE, min_score=0.4)) == [(0, 0.5), (2, 0.5)]
    stub.reply = answer(200, {"results": results[:2]})
    assert ranked_pairs(scorer.rank("q", THREE, top_n=2)) == [(0, 0.5), (2, 0.5)]
    assert ranked_pairs(scorer.rank("q", THREE, top_n=2, min_score=0.6)) == []
