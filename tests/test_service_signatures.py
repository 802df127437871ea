"""Logic functions take keyword-only arguments, so a call says what each value is and two
arguments of the same type (a manager and a user) cannot be swapped unnoticed."""
import inspect

import pytest

from fieldsales.auth import service as auth_service
from fieldsales.users import credentials as users_credentials
from fieldsales.users import scope as users_scope
from fieldsales.users import service as users_service


def _functions(module):
    return [(name, fn) for name, fn in vars(module).items()
            if inspect.isfunction(fn) and fn.__module__ == module.__name__]


@pytest.mark.parametrize("module", [auth_service, users_service, users_credentials, users_scope],
                         ids=lambda m: m.__name__)
def test_every_function_of_the_module_takes_keyword_only_arguments(module):
    positional = {
        name: [p.name for p in inspect.signature(inspect.unwrap(fn)).parameters.values()
               if p.kind not in (p.KEYWORD_ONLY, p.VAR_KEYWORD)]
        for name, fn in _functions(module)}
    assert {name: params for name, params in positional.items() if params} == {}
