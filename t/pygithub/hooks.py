#!/usr/bin/python3
# Drives org and repository hooks through PyGithub (Debian's python3-github)
# as a user of it would, and prints what it saw as one JSON object.
# Organization and Repository objects are built without being fetched: the
# module serves hook routes only.
#
# usage: hooks.py BASE_URL TOKEN ORG OWNER/REPO RECEIVER_URL

import json
import sys

import github
from github.Organization import Organization

base, token, org_login, full_name, receiver = sys.argv[1:6]

g = github.Github(login_or_token=token, base_url=base)
# a lazy Repository; an Organization the same way, on the requester the
# Github object made (PyGithub 1.55 has no lazy get_organization)
repo = g.get_repo(full_name, lazy=True)
org = Organization(g._Github__requester, {}, {"url": f"/orgs/{org_login}"},
                   completed=False)

out = {}


def hook_view(h):
    return {"id": h.id, "name": h.name, "active": h.active,
            "events": list(h.events), "config": dict(h.config),
            "url": h.url, "ping_url": h.ping_url}


for label, owner in (("repo", repo), ("org", org)):
    created = owner.create_hook(
        "web", {"url": f"{receiver}/ok/py-{label}", "content_type": "json",
                "secret": f"py-{label}-secret"},
        events=["push", "issues"], active=True)
    seen = {"created": hook_view(created)}
    seen["listed"] = [h.id for h in owner.get_hooks()]
    got = owner.get_hook(created.id)
    seen["got"] = hook_view(got)

    # what a user of PyGithub does: the config as read, events changed
    if label == "repo":
        got.edit("web", got.config, add_events=["fork"],
                 remove_events=["issues"])
    else:
        got.edit("web", got.config, events=["push", "fork"])
    seen["edited"] = hook_view(got)
    seen["refetched"] = hook_view(owner.get_hook(created.id))

    got.ping()
    seen["pinged"] = True
    if label == "repo":
        got.test()
        seen["tested"] = True

    got.delete()
    try:
        owner.get_hook(created.id)
        seen["after_delete"] = 200
    except github.UnknownObjectException as e:
        seen["after_delete"] = e.status
    seen["listed_after"] = [h.id for h in owner.get_hooks()]
    out[label] = seen

try:
    repo.create_hook("irc", {"url": f"{receiver}/ok/irc"})
    out["bad_name"] = 201
except github.GithubException as e:
    out["bad_name"] = [e.status, e.data.get("message"),
                       e.data.get("errors")]

print(json.dumps(out))
