#!/usr/bin/python3
"""Key files that another language's tools read and write: pyzmq's zmq.auth (Debian's
python3-zmq), the czmq certificate format.

    python_zcert.py create DIR NAME
        writes DIR/NAME.key and DIR/NAME.key_secret with zmq.auth.create_certificates

    python_zcert.py push GENERATED_DIR INGEST SERVER_CERT CLIENT_SECRET_CERT UNIT ID
        loads both certificates with zmq.auth.load_certificate, connects over CURVE and pushes
        one tally record for UNIT; prints the status xxgkd answers
"""
import sys

import zmq  # noqa: E402  (Debian's python3-zmq)
import zmq.auth  # noqa: E402


def push(generated, ingest, server_cert, client_cert, unit, record_id):
    sys.path.insert(0, generated)
    import xxgk_pb2 as pb  # protoc --python_out

    server_public, none = zmq.auth.load_certificate(server_cert)
    public, secret = zmq.auth.load_certificate(client_cert)
    if none is not None:
        sys.exit("python: %s has a secret key, and a public certificate has none" % server_cert)
    if secret is None or len(public) != 40 or len(secret) != 40:
        sys.exit("python: %s is not a secret certificate" % client_cert)
    if zmq.curve_public(secret) != public:
        sys.exit("python: %s: public-key is not secret-key's" % client_cert)
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.linger = 0
    socket.curve_serverkey = server_public
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.connect(ingest)
    request = pb.Request()
    request.request_id = 7
    tally = request.push.records.add(unit=unit, id=record_id, revision=1)
    tally.tally.measure = pb.TALLY_PENALTY_DECISIONS
    tally.tally.date = "2019-12-31"
    tally.tally.value = 3
    socket.send(request.SerializeToString())
    # the handshake and the answer: a wide margin for a loaded machine
    if not socket.poll(20000):
        sys.exit("python: no answer from xxgkd (the CURVE handshake failed?)")
    reply = pb.Reply()
    reply.ParseFromString(socket.recv())
    if reply.WhichOneof("body") != "push":
        sys.exit("python: xxgkd answers %s" % reply)
    print(pb.RecordStatus.Code.Name(reply.push.statuses[0].code))
    context.destroy()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "create":
        for path in zmq.auth.create_certificates(sys.argv[2], sys.argv[3]):
            print(path)
    elif len(sys.argv) == 8 and sys.argv[1] == "push":
        push(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
