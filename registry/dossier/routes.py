"""The dossier of one list as a download: for the CSB of that election only.

    GET /api/v1/elections/<election>/lists/<list id>/dossier    (bearer token, role csb)
    GET /csb/<election>/lijsten/<list id>/dossier               (web session, role csb)

Both build the ZIP into a temporary file (constant memory) and send it; the manifest's fingerprint
goes along in the ETag and the X-Dossier-Fingerprint header. Each download is an audit event.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Blueprint, Response, render_template, render_template_string, send_file

from auth.access import api_role_required, current_identity, require_election, role_required
from registry.db import db
from registry.dossier.services import DossierBuilt, DossierNotFound, SigningKeyError, build_dossier
from registry.problems import problem

dossier_api = Blueprint("dossier_api", __name__, url_prefix="/api/v1")
dossier_pages = Blueprint("dossier_pages", __name__, url_prefix="/csb")

KEY_PAGE = """{% extends "base.html" %}{% block title %}Ondertekenen niet mogelijk{% endblock %}
{% block content %}<h1>Het dossier kan nu niet worden ondertekend</h1>
<p role="alert">De ondertekeningssleutel van het register is niet bruikbaar. Vraag de beheerder de instelling
STEUNREGISTER_DOSSIER_SIGNING_KEY_FILE na te kijken.</p>{% endblock %}"""


def _send(election: str, list_id: int) -> tuple[Response | None, DossierBuilt | None, Exception | None]:
    identity = current_identity()
    assert identity is not None  # the role decorators ran
    out = tempfile.TemporaryFile(prefix="dossier-")  # already unlinked; gone once the response closes it
    try:
        built = build_dossier(db.session, election, list_id, out, actor=identity.actor)
    except (DossierNotFound, SigningKeyError) as exc:
        out.close()
        return None, None, exc
    except BaseException:
        out.close()
        raise
    out.seek(0)
    response = send_file(out, mimetype="application/zip", as_attachment=True, download_name=built.filename,
                         etag=built.manifest_sha256, conditional=False, max_age=0)
    response.headers["X-Dossier-Fingerprint"] = built.fingerprint
    response.headers["Cache-Control"] = "no-store"  # it holds the declarants' names
    response.content_length = built.size
    return response, built, None


@dossier_api.get("/elections/<election>/lists/<int:list_id>/dossier")
@api_role_required("csb")
def api_download(election: str, list_id: int) -> Any:
    require_election(election)  # 403 before anything about the election is disclosed
    response, _built, error = _send(election, list_id)
    if isinstance(error, DossierNotFound):
        if error.what == "election":
            return problem(404, "unknown-election", "Onbekende verkiezing", str(error), election=election)
        return problem(404, "unknown-list", "Onbekende lijst", str(error), election=election, list=list_id)
    if isinstance(error, SigningKeyError):
        return problem(503, "signing-key-unavailable", "Ondertekenen niet mogelijk",
                       "De ondertekeningssleutel van het register is niet bruikbaar; de beheerder moet de "
                       "instelling STEUNREGISTER_DOSSIER_SIGNING_KEY_FILE nakijken.")
    return response


@dossier_pages.get("/<election>/lijsten/<int:list_id>/dossier")
@role_required("csb")
def page_download(election: str, list_id: int) -> Any:
    require_election(election)
    response, _built, error = _send(election, list_id)
    if isinstance(error, DossierNotFound):
        return render_template("csb/not_found.html", message=str(error)), 404
    if isinstance(error, SigningKeyError):
        return render_template_string(KEY_PAGE), 503
    return response
