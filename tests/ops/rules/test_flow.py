"""The case flow file (case_flow.toml): every state reachable from 受理, every non-final state can be left, and
broken files are refused naming the entry."""

from __future__ import annotations

import pytest

from gridsvc.errors import InputError
from gridsvc.ops.rules.files import forget
from gridsvc.ops.rules.flow import load_flow
from gridsvc.people.roles import role_table


def test_every_state_is_reachable_from_accepted():
    flow = load_flow()
    seen, todo = {"accepted"}, ["accepted"]
    while todo:
        state = todo.pop()
        for code in flow.allowed(state):
            to = flow.target(code, "dispatched")
            if to not in seen:
                seen.add(to)
                todo.append(to)
    assert seen == set(flow.states)


def test_the_roles_of_the_issue():
    flow = load_flow()
    assert flow.allowed("accepted", "dispatcher") == ["register", "invalidate", "mark_duplicate"]
    assert flow.allowed("registered", "dispatcher")[0] == "dispatch"
    assert flow.allowed("dispatched", "party") == ["rectify", "request_extension"]
    assert flow.allowed("dispatched", "grid_officer") == ["rectify", "request_extension"]
    assert flow.allowed("rectified", "inspector") == ["verify_pass", "verify_fail"]
    assert flow.allowed("rectified", "party") == []
    assert all("admin" in a.roles for a in flow.actions.values())
    assert flow.actions["rectify"].requires == ("note", "photos")
    assert flow.actions["mark_duplicate"].requires == ("duplicate_of",)
    assert flow.actions["grant_extension"].deadline == "new_deadline"
    assert not flow.states["deferred"].on_time_figures and not flow.states["void"].on_time_figures
    assert set(role_table().allowed("cases.act")) >= {r for a in flow.actions.values() for r in a.roles}


@pytest.mark.parametrize(("find", "replace", "where"), [
    ('roles = ["dispatcher", "admin"]\nrestart = "dispatch"', 'roles = ["mayor"]\nrestart = "dispatch"',
     "actions.register.roles"),
    ('from = ["verified"]', 'from = ["closed"]', "actions.close.from"),
    ('to = "rectified"', 'to = "fixed"', "actions.rectify.to"),
    ('requires = ["note", "photos"]', 'requires = ["note", "selfie"]', "actions.rectify.requires"),
])
def test_broken_flow_files_name_the_entry(geodata, find, replace, where):
    path = geodata / "ops" / "case_flow.toml"
    text = path.read_text(encoding="utf-8")
    assert find in text
    path.write_text(text.replace(find, replace, 1), encoding="utf-8")
    forget()
    with pytest.raises(InputError) as err:
        load_flow()
    assert where in str(err.value) and "case_flow.toml" in str(err.value)
