"""The model's values behave as the frozen, keyword-only dataclasses they declare themselves to
be: FrozenValue writes their __init__, ==, hash and repr once instead of a dataclass generating
them for each class."""

import dataclasses
import pickle

import pytest

from consentgen.model import Citation, Practice, PracticeProfile, Rule, StatusRule
from consentgen.values import FrozenValue, frozen_value

CITE = {"cite": "Cal. Penal Code § 11166", "source_url": "https://example.org/11166"}


def test_a_value_takes_its_fields_by_keyword_and_fills_in_the_defaults() -> None:
    citation = Citation(**CITE, read="primary")
    assert (citation.cite, citation.read, citation.note) == (CITE["cite"], "primary", None)
    assert [f.name for f in dataclasses.fields(Citation)] == ["cite", "source_url", "read", "note"]
    with pytest.raises(TypeError, match="positional"):
        Citation("Cal. Penal Code § 11166", "https://example.org", "primary")  # type: ignore[misc]


def test_a_missing_or_unknown_field_is_refused_by_name() -> None:
    # The words Python's own dataclasses use.
    with pytest.raises(TypeError, match=r"missing 2 required keyword-only arguments: "
                       r"'source_url' and 'read'$"):  # fmt: skip
        Citation(cite="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'read'$"):
        Citation(cite="x", source_url="y")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"missing 3 required keyword-only arguments: "
                       r"'summary', 'citations', and 'verified'$"):  # fmt: skip
        Rule()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'page'"):
        Citation(**CITE, read="primary", page=3)  # type: ignore[call-arg]
    # An unknown name and a missing one together are not mistaken for a full set.
    with pytest.raises(TypeError, match="unexpected keyword argument 'page'"):
        Citation(cite="x", source_url="y", page=3)  # type: ignore[call-arg]


def test_a_value_cannot_be_changed() -> None:
    citation = Citation(**CITE, read="primary")
    with pytest.raises(dataclasses.FrozenInstanceError):
        citation.cite = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del citation.note
    assert citation.cite == CITE["cite"]


def test_equal_values_are_equal_and_hash_alike_and_other_classes_never_are() -> None:
    first = Citation(**CITE, read="primary")
    assert first == Citation(**CITE, read="primary")
    assert hash(first) == hash(Citation(**CITE, read="primary"))
    assert first != Citation(**CITE, read="secondary")
    rule = Rule(summary="s", citations=(first,), verified=True)
    assert rule != StatusRule(summary="s", citations=(first,), verified=True, status="none")
    assert repr(first) == (f"Citation(cite={CITE['cite']!r}, source_url={CITE['source_url']!r}, "
                           "read='primary', note=None)")  # fmt: skip


def test_replace_asdict_and_pickle_keep_the_value() -> None:
    profile = PracticeProfile(practice=Practice(name="Harbor Counseling"))
    assert dataclasses.replace(profile, reviewed=()) == profile
    assert dataclasses.asdict(profile)["practice"]["name"] == "Harbor Counseling"
    assert pickle.loads(pickle.dumps(profile)) == profile
    # A default factory makes each value its own: two profiles never share a Practice by mistake.
    assert PracticeProfile().practice is not PracticeProfile().practice


def test_a_frozen_value_runs_its_post_init_and_refuses_what_it_cannot_build() -> None:
    @frozen_value
    class Checked(FrozenValue):
        low: int
        high: int = 10

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low above high")

    assert Checked(low=1).high == 10
    with pytest.raises(ValueError, match="low above high"):
        Checked(low=11)

    with pytest.raises(TypeError, match="subclasses FrozenValue"):
        frozen_value(type("Plain", (), {"__annotations__": {"x": int}}))
    with pytest.raises(TypeError, match="set by __init__"):

        @frozen_value
        class Derived(FrozenValue):
            x: int = dataclasses.field(init=False, default=0)


def test_a_positional_frozen_value_takes_its_fields_in_order_and_sorts_like_a_dataclass() -> None:
    from consentgen.errors import Problem

    first = Problem("a.yaml", 3, 1, "error", "bad", "CG101")
    assert first == Problem(path="a.yaml", line=3, column=1, severity="error", message="bad",
                            rule_id="CG101")  # fmt: skip
    earlier, later = Problem("a.yaml", 2, 9, "x", "y"), Problem("b.yaml", 1, 1, "info", "x")
    assert sorted([later, first, earlier]) == [earlier, first, later]
    with pytest.raises(TypeError, match="got multiple values for argument 'path'"):
        Problem("a.yaml", 3, 1, "error", "bad", path="b.yaml")
    with pytest.raises(TypeError, match="takes from 6 to 7 positional arguments but 8 were given"):
        Problem("a.yaml", 3, 1, "error", "bad", "CG101", "extra")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'message'"):
        Problem("a.yaml", 3, 1, "error")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        Citation("Cal. Penal Code § 11166")  # type: ignore[misc]
    with pytest.raises(TypeError, match="not supported"):
        assert first < Citation(**CITE, read="primary")  # type: ignore[operator]


def test_a_field_left_out_of_comparison_is_left_out_of_equality_and_repr() -> None:
    @frozen_value(kw_only=False)
    class Cached(FrozenValue):
        key: str
        memo: dict[str, int] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    one, other = Cached("k"), Cached("k")
    one.memo["x"] = 1
    assert one == other and hash(one) == hash(other)
    assert repr(one).endswith("<locals>.Cached(key='k')")  # the qualified name, as a dataclass


def test_a_subclass_without_its_own_declaration_builds_as_its_base() -> None:
    class Noted(Citation):
        """A subclass that adds a method, not a field."""

        def shown(self) -> str:
            return self.cite

    noted = Noted(**CITE, read="primary")
    assert noted.shown() == CITE["cite"] and dataclasses.asdict(noted)["read"] == "primary"
    with pytest.raises(TypeError, match="declare it with @frozen_value"):
        FrozenValue()


def test_help_and_editors_see_the_fields_as_a_dataclass_shows_them() -> None:
    import inspect

    from consentgen.errors import Problem

    assert str(inspect.signature(Citation)) == (
        "(*, cite: str, source_url: str, read: Literal['primary', 'secondary'], "
        "note: str | None = None) -> None"
    )
    assert str(inspect.signature(Problem)) == (
        "(path: 'str', line: 'int', column: 'int', severity: 'str', message: 'str', "
        "rule_id: 'str' = '') -> None"
    )
    assert "practice: consentgen.model.Practice = <factory>" in str(
        inspect.signature(PracticeProfile)
    )
