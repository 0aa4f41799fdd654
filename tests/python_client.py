#!/usr/bin/python3
"""A unit's system that is not written in C: pushes records to xxgkd over ZeroMQ with the Python
classes protoc generates from proto/xxgk.proto, then reads them back in the report.

    python_client.py GENERATED_DIR INGEST_ENDPOINT ADMIN_ENDPOINT
"""
import sys

sys.path.insert(0, sys.argv[1])
import zmq  # noqa: E402  (Debian's python3-zmq)
import xxgk_pb2 as pb  # noqa: E402  (protoc --python_out)


def call(socket, request, request_id):
    request.request_id = request_id
    socket.send(request.SerializeToString())
    if not socket.poll(10000):
        sys.exit("python client: no answer from xxgkd")
    reply = pb.Reply()
    reply.ParseFromString(socket.recv())
    if reply.request_id != request_id:
        sys.exit("python client: answer to another request")
    if reply.WhichOneof("body") == "error":
        sys.exit("python client: xxgkd says: " + reply.error.message)
    return reply


def main():
    context = zmq.Context()
    ingest = context.socket(zmq.DEALER)
    ingest.connect(sys.argv[2])
    admin = context.socket(zmq.DEALER)
    admin.connect(sys.argv[3])

    request = pb.Request()
    app = request.push.records.add(unit="u001", id="py-申请-1", revision=1)
    app.application.applicant = pb.APPLICANT_LEGAL_SERVICE
    app.application.received = "2019-06-01"
    app.application.concluded = "2019-06-20"
    app.application.outcome = pb.OUTCOME_UNABLE_NOT_HELD
    doc = request.push.records.add(unit="u002", id="py-文件-1", revision=1)
    doc.document.kind = pb.DOCUMENT_NORMATIVE
    doc.document.made = "2019-02-01"
    doc.document.published = "2019-02-03"
    doc.document.title = "某某管理办法"
    tally = request.push.records.add(unit="u001", id="py-计数-1", revision=1)
    tally.tally.measure = pb.TALLY_PENALTY_DECISIONS
    tally.tally.date = "2019-12-31"
    tally.tally.value = 17
    bad = request.push.records.add(unit="u001", id="py-坏-1", revision=1)
    bad.application.applicant = pb.APPLICANT_NATURAL_PERSON
    bad.application.received = "2019-02-30"

    statuses = call(ingest, request, 1).push.statuses
    codes = [pb.RecordStatus.Code.Name(s.code) for s in statuses]
    if codes != ["APPLIED", "APPLIED", "APPLIED", "REJECTED"]:
        sys.exit("python client: statuses %s" % codes)
    if "impossible date" not in statuses[3].message:
        sys.exit("python client: rejection says %r" % statuses[3].message)

    query = pb.Request()
    query.report.year = 2019
    query.report.city = True
    report = call(admin, query, 2).report
    cells = {c.key: c.value for c in report.cells}
    want = {
        "applications.new_received.legal_service": 1,
        "applications.unable_not_held.legal_service": 1,
        "proactive.normdocs.new_made": 1,
        "proactive.normdocs.published_total": 1,
        "proactive.penalty.decisions": 17,
    }
    for key, value in want.items():
        if cells.get(key) != value:
            sys.exit("python client: %s = %s, want %s" % (key, cells.get(key), value))
    print("python client: 3 records applied, 1 rejected; the report has them")


if __name__ == "__main__":
    main()
