# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""fiskil-gateway's secret files (docs/gateway.md, "Secrets and TLS"): every
secret file is read by one reader that refuses a file its group or others can
read, at start (exit 64) and on SIGHUP (logged, the old secret kept).

usage: secrets.py GROUP   (GROUP: secrets, tls-reload)

tls-reload: HTTPS in this build (either crypto backend): TLS 1.1 and a
non-ECDHE cipher refused and counted, the certificate's expiry in
/metrics; the certificate and key swapped and SIGHUP: new connections get
the new certificate; a broken pair and SIGHUP: the previous one is kept and
the reason logged.
"""
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect  # noqa: E402


def test_secrets(tmp):
    tmp = pathlib.Path(tmp)
    run = lambda *a: subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--journal", str(tmp / "r.sqlite"), *a],
                                    capture_output=True, text=True, timeout=30, cwd=tmp)
    exposed = harness.write_private(tmp / "exposed.b64", harness.SECRET + "\n")
    for mode in (0o644, 0o640, 0o604, 0o660):
        os.chmod(exposed, mode)
        r = run("--secret-file", str(exposed))
        check(r.returncode == 64 and str(exposed) in r.stderr and f"{mode:04o}" in r.stderr
              and f"chmod 600 {exposed}" in r.stderr and harness.SECRET not in r.stderr,
              f"a {mode:04o} --secret-file exits 64 naming the file, its mode and the fix: {r.returncode} {r.stderr}")
    # The second of two secret files, and the forwarding secret, too.
    r = run("--secret-file", str(harness.SECRET_FILE), "--secret-file", str(exposed))
    check(r.returncode == 64 and str(exposed) in r.stderr, f"an exposed second --secret-file exits 64: {r.stderr}")
    forward = harness.write_private(tmp / "forward.secret", "whsec_" + harness.SECRET + "\n")
    os.chmod(forward, 0o644)
    r = run("--secret-file", str(harness.SECRET_FILE), "--forward", "http://127.0.0.1:9/", "--forward-secret-file",
            str(forward))
    check(r.returncode == 64 and str(forward) in r.stderr and "chmod 600" in r.stderr,
          f"an exposed --forward-secret-file exits 64: {r.returncode} {r.stderr}")

    # 0600 (and 0400) are accepted; SIGHUP refuses a file made readable and
    # keeps the secret in service.
    current = harness.write_private(tmp / "current.b64", harness.SECRET + "\n")
    os.chmod(current, 0o400)
    g = Gateway(tmp, secrets=[current])
    try:
        b, s = delivery("9600000000000001")
        expect(g.post(b, s), 200, "accepted", "a 0400 secret file is accepted")
        os.chmod(current, 0o600)
        harness.write_private(current, harness.SECRET_ROTATED + "\n")
        os.chmod(current, 0o644)
        g.signal(signal.SIGHUP)
        check(g.logged("configuration_reload_failed") and g.logged("chmod 600"),
              f"SIGHUP with a 0644 secret file logs the refusal and the fix: {g.stderr()[-800:]}")
        b, s = delivery("9600000000000002")
        expect(g.post(b, s), 200, "accepted", "the old secret is kept after a refused reload")
        b, s = delivery("9600000000000003", secret=harness.SECRET_ROTATED)
        check(g.post(b, s)[0] == 401, "the exposed file's new secret was not taken")
        os.chmod(current, 0o600)
        g.signal(signal.SIGHUP)
        check(g.logged("configuration_reloaded"), "SIGHUP with the file back at 0600 reloads")
        b, s = delivery("9600000000000004", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s), 200, "accepted", "the new secret after chmod 600 and SIGHUP")
        check(harness.SECRET not in g.stderr() and harness.SECRET_ROTATED not in g.stderr(), "no secret in the logs")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


def make_pair(directory, name, days):
    """A self-signed P-256 certificate for 127.0.0.1 and its key, made now
    (no key is committed). Returns (cert, key) paths."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def served_pem(port):
    """The certificate the gateway serves to a new connection, as PEM."""
    return ssl.get_server_certificate(("127.0.0.1", port))


def same_cert(pem, path):
    return ssl.PEM_cert_to_DER_cert(pem) == ssl.PEM_cert_to_DER_cert(pathlib.Path(path).read_text())


def not_after(path):
    return ssl.cert_time_to_seconds(ssl._ssl._test_decode_cert(str(path))["notAfter"])


def handshake_refused(port, configure):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            configure(context)
    except (ssl.SSLError, ValueError) as e:
        print(f"SKIP: this Python's OpenSSL cannot offer that ({e})")
        return None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw) as tls:
                return tls.version() is None
    except (ssl.SSLError, OSError):
        return True


def wait_metric(g, name, at_least, timeout=3.0):
    deadline = time.time() + timeout
    while g.metric(name) < at_least and time.time() < deadline:
        time.sleep(0.05)
    return g.metric(name)


def test_tls_reload(tmp):
    tmp = pathlib.Path(tmp)
    first_cert, first_key = make_pair(tmp, "first", 1)
    second_cert, second_key = make_pair(tmp, "second", 3)
    cert, key = tmp / "served.crt", tmp / "served.key"
    cert.write_bytes(first_cert.read_bytes())
    harness.write_private(key, first_key.read_text())
    g = Gateway(tmp, "--tls-cert", str(cert), "--tls-key", str(key), "--admin-listen", "127.0.0.1:0")
    failures = "fiskil_gateway_tls_handshake_failures_total"
    expiry = "fiskil_gateway_tls_certificate_expiry_timestamp_seconds"
    try:
        check(same_cert(served_pem(g.port), first_cert), "the first certificate is served")
        check(abs(g.metric(expiry) - not_after(first_cert)) <= 1,
              f"the expiry metric is the certificate's notAfter: {g.metric(expiry)} {not_after(first_cert)}")
        expected = 0

        def old_protocol(c):
            c.set_ciphers("DEFAULT:@SECLEVEL=0")
            c.minimum_version = ssl.TLSVersion.TLSv1_1
            c.maximum_version = ssl.TLSVersion.TLSv1_1

        def weak_cipher(c):
            c.maximum_version = ssl.TLSVersion.TLSv1_2
            c.set_ciphers("AES128-SHA:AES256-SHA:AES128-GCM-SHA256@SECLEVEL=0")

        for what, configure in (("TLS 1.1", old_protocol), ("a non-ECDHE cipher", weak_cipher)):
            refused = handshake_refused(g.port, configure)
            if refused is None:
                continue
            expected += 1
            check(refused, f"{what} is refused")
            check(wait_metric(g, failures, expected) == expected, f"{what}: counted as a handshake failure")
        if expected:
            check(g.logged("tls_handshake_failed") and g.logged("peer=127.0.0.1"),
                  "a handshake failure is logged with the peer")

        # A keep-alive connection opened before the swap keeps working.
        context = ssl.create_default_context(cafile=str(first_cert))
        import http.client
        before = http.client.HTTPSConnection("127.0.0.1", g.port, context=context, timeout=10)
        b, s = delivery("9700000000000001")
        expect(g.post(b, s, conn=before), 200, "accepted", "over HTTPS with the first certificate")

        cert.write_bytes(second_cert.read_bytes())
        harness.write_private(key, second_key.read_text())
        g.signal(signal.SIGHUP)
        check(g.logged("tls_reloaded"), "SIGHUP reloads the certificate")
        check(same_cert(served_pem(g.port), second_cert), "after the swap and SIGHUP, the second certificate is served")
        check(abs(g.metric(expiry) - not_after(second_cert)) <= 1, "the expiry metric follows the new certificate")
        b, s = delivery("9700000000000002")
        expect(g.post(b, s, conn=before), 200, "accepted", "the connection opened before the reload goes on")
        before.close()

        # A broken pair: the first certificate with the second key.
        cert.write_bytes(first_cert.read_bytes())
        g.signal(signal.SIGHUP)
        check(g.logged("tls_reload_failed") and g.logged(f"--tls-key {key}"),
              f"a mismatched pair is refused and the reason logged: {g.stderr()[-600:]}")
        check(same_cert(served_pem(g.port), second_cert), "the previous pair is kept after a failed reload")
        check(abs(g.metric(expiry) - not_after(second_cert)) <= 1, "the expiry metric is unchanged")
        check(second_key.read_text().split("-----")[2].strip()[:40] not in g.stderr(), "key material in the log")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


GROUPS = {
    "secrets": test_secrets,
    "tls-reload": test_tls_reload,
}

if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-gateway-secrets-"))
