"""/v1/batches and /v1/programs: the REST twin of the LPA_BATCH / LPA_ENROLMENT events (same service code).

Who may call: an operator token (`roles: ["operator"]`, `lpa token --operator`) for anything; otherwise a
batch's creator or mentors manage it, a learner may enrol themselves in an `open` batch and unenrol
themselves from any. Anyone signed in may read a batch or a program.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response
from sqlalchemy import select

from ingestion.events import BatchEdata, EnrolmentEdata
from query_api import db
from query_api.auth import Caller, current_caller, login_required
from query_api.errors import Conflict, Forbidden, NotFound
from query_api.http import body, no_content, respond
from query_api.models import Batch
from query_api.schemas.batches import BatchCreate, BatchUpdate, EnrolmentList, ProgramOut
from query_api.services import batches as service
from query_api.services.catalog import require_courses
from query_api.services.present import batch_out, enrolment_out

bp = Blueprint("batches", __name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _batch(batch_id: str) -> Batch:
    batch = db.session().get(Batch, batch_id)
    if batch is None:
        raise service.batch_not_found(batch_id)
    return batch


def _may_manage(caller: Caller, batch: Batch) -> bool:
    return caller.is_operator or caller.user_id == batch.created_by or caller.user_id in batch.mentors


def _require_manager(caller: Caller, batch: Batch) -> None:
    if not _may_manage(caller, batch):
        raise Forbidden(f"only batch {batch.id}'s creator, its mentors or an operator can do this",
                        {"batchId": batch.id}, code="batch_manager_required")


def _answer(batch_id: str, status: int = 200) -> Response:
    session = db.session()
    batch = _batch(batch_id)
    group = service.group_of_batch(session, batch_id)
    return respond(batch_out(batch, group.id if group else None), status)


@bp.post("/v1/batches")
@login_required
def create() -> Response:
    caller, request_body = current_caller(), body(BatchCreate)
    if request_body.createdBy not in (None, caller.user_id) and not caller.is_operator:
        raise Forbidden("only an operator can create a batch on someone else's behalf", code="operator_required")
    session = db.session()
    if session.get(Batch, request_body.batchId) is not None:
        raise Conflict(f"batch {request_body.batchId} already exists (PATCH it to change it)",
                       {"batchId": request_body.batchId}, code="batch_exists")
    require_courses(session, request_body.courseIds)
    fields = request_body.model_dump(exclude_none=True)
    fields.setdefault("createdBy", caller.user_id)
    service.apply_batch(session, BatchEdata.model_validate({"action": "create", **fields}), _now_ms(),
                        caller.user_id)
    session.commit()
    return _answer(request_body.batchId, 201)


@bp.get("/v1/batches/<batch_id>")
@login_required
def read(batch_id: str) -> Response:
    return _answer(batch_id)


@bp.patch("/v1/batches/<batch_id>")
@login_required
def update(batch_id: str) -> Response:
    caller, changes = current_caller(), body(BatchUpdate)
    session = db.session()
    _require_manager(caller, _batch(batch_id))
    if changes.courseIds:
        require_courses(session, changes.courseIds)
    fields = changes.model_dump(include=changes.model_fields_set)
    service.apply_batch(session, BatchEdata.model_validate({"action": "update", "batchId": batch_id, **fields}),
                        _now_ms(), caller.user_id)
    session.commit()
    return _answer(batch_id)


@bp.post("/v1/batches/<batch_id>/close")
@login_required
def close(batch_id: str) -> Response:
    caller, session = current_caller(), db.session()
    _require_manager(caller, _batch(batch_id))
    service.apply_batch(session, BatchEdata(action="close", batchId=batch_id), _now_ms(), caller.user_id)
    session.commit()
    return _answer(batch_id)


@bp.get("/v1/batches/<batch_id>/enrolments")
@login_required
def enrolments(batch_id: str) -> Response:
    batch = _batch(batch_id)
    _require_manager(current_caller(), batch)
    rows = service.enrolments_of(db.session(), batch_id)
    return respond(EnrolmentList(batchId=batch_id, enrolments=[enrolment_out(e) for e in rows]))


def _enrolment(batch_id: str, user_id: str, action: str) -> Response:
    caller, session = current_caller(), db.session()
    batch = _batch(batch_id)
    self_service = caller.user_id == user_id and (action == "unenrol" or batch.enrollment_type == "open")
    if not (self_service or _may_manage(caller, batch)):
        raise Forbidden(f"only batch {batch_id}'s creator, its mentors or an operator can do this"
                        + (" (learners may enrol themselves in open batches)" if action == "enrol" else ""),
                        {"batchId": batch_id}, code="batch_manager_required")
    if action == "enrol" and batch.status == "closed":
        raise Conflict(f"batch {batch_id} is closed", {"batchId": batch_id}, code="batch_closed")
    edata = EnrolmentEdata.model_validate({"action": action, "batchId": batch_id, "userId": user_id})
    service.apply_enrolment(session, edata, _now_ms(), caller.user_id)
    session.commit()
    if action == "unenrol":
        return no_content()
    enrolment = next(e for e in service.enrolments_of(session, batch_id) if e.user_id == user_id)
    return respond(enrolment_out(enrolment))


@bp.put("/v1/batches/<batch_id>/enrolments/<user_id>")
@login_required
def enrol(batch_id: str, user_id: str) -> Response:
    return _enrolment(batch_id, user_id, "enrol")


@bp.delete("/v1/batches/<batch_id>/enrolments/<user_id>")
@login_required
def unenrol(batch_id: str, user_id: str) -> Response:
    return _enrolment(batch_id, user_id, "unenrol")


@bp.get("/v1/programs/<program_id>")
@login_required
def program(program_id: str) -> Response:
    session = db.session()
    batches = list(session.scalars(select(Batch).where(Batch.program_id == program_id).order_by(Batch.id)))
    if not batches:
        raise NotFound(f"program {program_id} not found", {"programId": program_id}, code="program_not_found")
    course_ids = list(dict.fromkeys(c for b in batches for c in b.course_ids))
    outs = []
    for batch in batches:
        group = service.group_of_batch(session, batch.id)
        outs.append(batch_out(batch, group.id if group else None))
    return respond(ProgramOut(programId=program_id, courseIds=course_ids, batches=outs))
