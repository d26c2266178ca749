"""The result.json contract has one shape on both sides: the harness's stdlib records
(gate/harness/contract.py) and the controller's pydantic models (gate/result.py) name the same
fields, and a field the models do not know is rejected instead of slipping through."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from gate import errors
from gate.errors import ResultError
from gate.harness import contract
from gate.result import CheckResult, ErrorInfo, Result, parse_result


def _fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


@pytest.mark.parametrize(
    ("record", "model"),
    [(contract.ResultRecord, Result), (contract.CheckRecord, CheckResult), (contract.ErrorRecord, ErrorInfo)],
)
def test_records_and_models_name_the_same_fields(record: Any, model: type[BaseModel]) -> None:
    assert set(record.__annotations__) == _fields(model)


def test_literals_have_one_source() -> None:
    assert set(get_args(contract.Verdict)) == set(errors.VERDICT_EXIT)
    assert get_args(Result.model_fields["verdict"].annotation) == get_args(contract.Verdict)
    assert get_args(CheckResult.model_fields["status"].annotation) == get_args(contract.CheckStatus)


def test_an_unmodelled_field_is_rejected() -> None:
    # It used to be kept silently (extra="allow"): `loop_s` was written and never modelled.
    assert parse_result({"verdict": "pass", "reason": "ok", "loop_s": 0.5}).loop_s == 0.5
    with pytest.raises(ResultError, match="new_field"):
        parse_result({"verdict": "pass", "reason": "ok", "new_field": 1})
    with pytest.raises(ResultError, match=r"checks\.0\.culprit"):
        parse_result(
            {
                "verdict": "fail",
                "reason": "x",
                "checks": [{"name": "a", "status": "fail", "message": "m", "culprit": "fc"}],
            }
        )


def test_every_usage_error_class_is_a_usage_error_kind() -> None:
    # A usage error's result carries its class name as error.type; run maps those to exit 2.
    names = {
        cls.__name__ for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.UsageError)
    }
    assert names == contract.USAGE_ERRORS
