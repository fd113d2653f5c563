"""Recordings and transcripts: announced by the video service, fetched from a local HTTP server into storage with
their SHA-256, attached to the minutes; a failed download is retried and shown by `majlis scheduler status`."""

import hashlib
import http.server
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import AttachmentStatus, MinutesStatus, Role, SessionStatus
from majlis.minutes.models import Attachment, Minutes
from majlis.sessions.models import MajlisSession
from scheduler.jobs import fetch_attachments
from tests.jitsi.test_events import jaas_event, post
from tests.jitsi.test_join import make_session

RECORDING = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
TRANSCRIPT = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v المحافظ>أهلاً بكم في المجلس\n\n"
              "2\n00:00:05.000 --> 00:00:09.000\n<v فاطمة>متى تُنار الطريق في سترة؟\n").encode()


class Files(http.server.BaseHTTPRequestHandler):
    """Serves the files of the test; the number of failures to give first is set per path."""

    files: dict = {}
    failures: dict = {}

    def do_GET(self):  # noqa: N802 - the standard library's name
        path = self.path.split("?")[0]
        if self.failures.get(path, 0) > 0:
            self.failures[path] -= 1
            self.send_error(500)
            return
        if path not in self.files:
            self.send_error(404)
            return
        body, kind = self.files[path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def file_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    Files.files = {"/rec.mp4": (RECORDING, "video/mp4"), "/transcript.vtt": (TRANSCRIPT, "text/vtt")}
    Files.failures = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ended(events_app, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-100))
    with unit_of_work(db):
        db.get(MajlisSession, majlis_session.id).status = SessionStatus.ENDED
    return majlis_session


@pytest.fixture
def events_app(app):
    from tests.jitsi.test_events import EVENTS_TOKEN, WEBHOOK_SECRET

    app.config.update(JITSI_WEBHOOK_SECRET=WEBHOOK_SECRET, JITSI_EVENTS_TOKEN=EVENTS_TOKEN)
    return app


def announce(client, majlis_session, kind: str, link: str):
    response = post(client, jaas_event(kind, majlis_session.room_name, datetime.now(UTC),
                                       {"preAuthenticatedLink": link}))
    assert response.get_json() == {"status": "recorded"}


def run_job(app, now=None):
    with app.app_context():
        return fetch_attachments(now or datetime.now(UTC))


def test_a_recording_and_a_transcript_end_up_attached_with_their_sha256(events_app, client, db, ended, file_server,
                                                                         make_user, api_token):
    from scheduler.jobs import sweep

    with events_app.app_context():
        sweep(datetime.now(UTC))  # the draft is compiled first; the transcript arrives after it
    announce(client, ended, "RECORDING_UPLOADED", file_server + "/rec.mp4")
    announce(client, ended, "TRANSCRIPTION_UPLOADED", file_server + "/transcript.vtt")
    assert run_job(events_app) == 2
    staff = api_token(make_user(role=Role.STAFF))
    minutes = client.get(f"/api/v1/sessions/{ended.id}/minutes", headers=staff).get_json()
    found = {item["kind"]: item for item in minutes["attachments"]}
    assert found["recording"]["sha256"] == hashlib.sha256(RECORDING).hexdigest()
    assert found["recording"]["size"] == len(RECORDING)
    assert found["transcript"]["sha256"] == hashlib.sha256(TRANSCRIPT).hexdigest()
    assert "المحافظ: أهلاً بكم في المجلس" in minutes["body"]  # the transcript is part of the draft
    assert "فاطمة: متى تُنار الطريق في سترة؟" in minutes["body"]
    download = client.get(urlsplit(found["recording"]["url"]).path, headers=staff)
    assert download.status_code == 200 and hashlib.sha256(download.data).hexdigest() == found["recording"]["sha256"]
    assert run_job(events_app) == 0  # nothing fetched twice

    # Published: the transcript (in the text) goes public with the minutes; the recording only when staff choose.
    base = f"/api/v1/sessions/{ended.id}/minutes"
    client.post(base + "/approve", headers=staff)
    client.post(base + "/publish", headers=staff)
    public = client.get(base, headers=api_token(make_user())).get_json()
    assert [item["kind"] for item in public["attachments"]] == ["transcript"]
    assert "فاطمة" in public["body"]
    recording_path = f"/sessions/{ended.id}/attachments/{found['recording']['id']}"
    assert client.get(recording_path).status_code == 404  # the page's link, for browsers
    assert client.get(urlsplit(found["recording"]["url"]).path, headers=api_token(make_user())).status_code == 404
    chosen = client.patch(f"/api/v1/sessions/{ended.id}/attachments/{found['recording']['id']}",
                          json={"public": True}, headers=staff)
    assert chosen.status_code == 200 and chosen.get_json()["public"] is True
    public = client.get(base, headers=api_token(make_user())).get_json()
    assert sorted(item["kind"] for item in public["attachments"]) == ["recording", "transcript"]
    assert client.get(recording_path).status_code == 200
    refused = client.patch(f"/api/v1/sessions/{ended.id}/attachments/{found['transcript']['id']}",
                           json={"public": False}, headers=staff)
    assert refused.status_code == 409


def test_a_transcript_that_comes_before_the_draft_is_in_the_draft(events_app, client, db, ended, file_server):
    from scheduler.jobs import sweep

    announce(client, ended, "TRANSCRIPTION_UPLOADED", file_server + "/transcript.vtt")
    run_job(events_app)
    with events_app.app_context():
        sweep(datetime.now(UTC))
    db.expire_all()
    assert "أهلاً بكم في المجلس" in db.scalar(select(Minutes.body))
    assert db.scalar(select(Attachment.in_draft)) is True


def test_a_failed_download_is_retried_and_reported(events_app, client, db, ended, file_server, runner):
    Files.failures["/rec.mp4"] = 1
    announce(client, ended, "RECORDING_UPLOADED", file_server + "/rec.mp4")
    now = datetime.now(UTC)
    assert run_job(events_app, now) == 0
    db.expire_all()
    row = db.scalar(select(Attachment))
    assert (row.status, row.attempts, row.last_error) == (AttachmentStatus.PENDING, 1, "HTTP 500")
    assert row.next_attempt_at > now
    status = runner.invoke(args=["scheduler", "status"])
    assert "Recordings and transcripts: 1 to fetch (1 waiting to retry), 0 failed; last error: HTTP 500" \
        in status.output
    assert file_server not in status.output  # the pre-authenticated link is never shown
    assert run_job(events_app, now + timedelta(seconds=10)) == 0  # not due yet
    assert run_job(events_app, row.next_attempt_at) == 1
    db.expire_all()
    row = db.scalar(select(Attachment))
    assert row.status == AttachmentStatus.STORED and row.source_url is None
    assert row.sha256 == hashlib.sha256(RECORDING).hexdigest()


def test_a_link_that_expires_before_a_download_succeeds_fails(events_app, client, db, ended, file_server, runner):
    Files.failures["/rec.mp4"] = 1000
    announce(client, ended, "RECORDING_UPLOADED", file_server + "/rec.mp4")
    moment = datetime.now(UTC)
    for _ in range(40):
        run_job(events_app, moment)
        db.expire_all()
        row = db.scalar(select(Attachment))
        if row.status != AttachmentStatus.PENDING:
            break
        moment = row.next_attempt_at
    assert row.status == AttachmentStatus.FAILED and row.source_url is None
    assert moment < row.created_at + timedelta(hours=24)
    assert "0 to fetch (0 waiting to retry), 1 failed" in runner.invoke(args=["scheduler", "status"]).output


@pytest.mark.parametrize("link", ["ftp://127.0.0.1/x", "http://example.com/rec.mp4", "file:///etc/passwd"])
def test_only_https_links_are_fetched(link):
    from majlis.minutes.attachments import DownloadError, download

    with pytest.raises(DownloadError):
        download(link, max_bytes=1000, production=False)
    with pytest.raises(DownloadError):
        download("http://127.0.0.1:9/x", max_bytes=1000, production=True)  # loopback http: never in production


def test_a_file_larger_than_allowed_is_refused(file_server):
    from majlis.minutes.attachments import DownloadError, download

    with pytest.raises(DownloadError, match="larger"):
        download(file_server + "/rec.mp4", max_bytes=100, production=False)


@pytest.mark.parametrize("data, expected", [
    (TRANSCRIPT, "المحافظ: أهلاً بكم في المجلس\nفاطمة: متى تُنار الطريق في سترة؟"),
    ('[{"participant": {"name": "أحمد"}, "text": "السلام عليكم"}, {"participant": {"name": "أحمد"}, '
     '"text": "ومرحبا"}, {"speaker": "سارة", "transcript": "شكرا"}]'.encode(), "أحمد: السلام عليكم ومرحبا\nسارة: شكرا"),
    ("السطر الأول\r\nالسطر الثاني\n".encode(), "السطر الأول\nالسطر الثاني"),
])
def test_transcripts_in_webvtt_json_and_plain_text(data, expected):
    from majlis.minutes.transcripts import transcript_text

    assert transcript_text(data) == expected


def test_folder_storage_keeps_files_inside_its_folder(tmp_path):
    from majlis.storage import FolderStorage, StorageError

    store = FolderStorage(str(tmp_path / "store"))
    source = tmp_path / "file.bin"
    source.write_bytes(b"abc")
    store.put("sessions/1/recording-1.mp4", str(source), "video/mp4")
    assert store.read("sessions/1/recording-1.mp4") == b"abc" and store.exists("sessions/1/recording-1.mp4")
    with pytest.raises(StorageError):
        store.put("../escape.mp4", str(source), "video/mp4")


def test_s3_storage_against_a_local_fake(events_app, client, db, ended, file_server, monkeypatch, make_user,
                                         api_token):
    """The S3 backend, on moto's S3 server on loopback (boto3 signs as against any S3-compatible store)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            monkeypatch.setenv(name, value)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="majlis")
        events_app.config["MAJLIS_STORAGE_URL"] = f"s3://majlis/attachments?endpoint={endpoint}&region=us-east-1"
        announce(client, ended, "RECORDING_UPLOADED", file_server + "/rec.mp4")
        assert run_job(events_app) == 1
        row = db.scalar(select(Attachment))
        stored = boto3.client("s3", endpoint_url=endpoint).get_object(Bucket="majlis",
                                                                     Key=f"attachments/{row.storage_key}")
        assert hashlib.sha256(stored["Body"].read()).hexdigest() == row.sha256
        staff = api_token(make_user(role=Role.STAFF))
        response = client.get(f"/api/v1/sessions/{ended.id}/attachments/{row.id}", headers=staff)
        assert response.status_code == 302 and response.headers["Location"].startswith(endpoint + "/majlis/")
    finally:
        server.stop()


def test_staff_choose_on_the_editor_page(events_app, client, db, ended, file_server, make_user, login_as):
    from tests.conftest import form_post

    announce(client, ended, "RECORDING_UPLOADED", file_server + "/rec.mp4")
    run_job(events_app)
    with unit_of_work(db):
        db.add(Minutes(session_id=ended.id, status=MinutesStatus.DRAFT, body="نص", compiled_at=datetime.now(UTC)))
    login_as(make_user(role=Role.STAFF))
    editor = f"/staff/sessions/{ended.id}/minutes"
    html = client.get(editor + "?lang=en").get_data(as_text=True)
    assert "Staff only" in html and "Publish with the minutes" in html
    row_id = db.scalar(select(Attachment.id))
    form_post(client, editor, {"action": "publish_attachment", "attachment": str(row_id)})
    db.expire_all()
    assert db.scalar(select(Attachment.is_public)) is True
