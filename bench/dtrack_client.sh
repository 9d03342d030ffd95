#!/usr/bin/env bash
# Do real Dependency-Track clients upload to `bulwark serve` unchanged?
#
#   bench/dtrack_client.sh [--write]
#
# Starts `bulwark serve` on a fresh SQLite store (vulnerability database: shared PyPI.zip),
# creates an upload+read key of a team with `bulwark keys create`, and uploads
# crates/bulwark-server/testdata/app-v1.cdx.json with:
#   - the documented Dependency-Track curl calls (PUT JSON with a base64 `bom`, POST multipart),
#     then polls the token;
#   - owasp-dependency-track-cli (1.0.11: the newest that runs on Python 3.13; and the latest),
#     `owasp-dtrack-cli upload --auto-create`;
#   - owasp-dependency-track-client (the library under that CLI): `upload_bom.sync_detailed`;
#   - dtrack-auditor (`dtrackauditor -a`, the PUT upload);
#   - dependency-track-client, which has no upload call: its project look-ups.
# Each client runs unchanged from a virtual environment under /tmp (made on first use). After
# each run the script asks bulwark's own API whether the version exists with every component.
# Prints a markdown table; --write also puts it between `<!-- dtrack -->` and `<!-- /dtrack -->`
# in bench/results/server.md (bench/server.py keeps everything from the first marker on). Needs target/release/bulwark, curl, python3 and a Python 3.13
# (PYTHON313, else python3.13 on PATH, else pyenv's) for owasp-dependency-track-cli.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${BULWARK_SHARED:-$REPO/../shared}
BULWARK=${BULWARK:-$REPO/target/release/bulwark}
SBOM=$REPO/crates/bulwark-server/testdata/app-v1.cdx.json
VENVS=${DTRACK_VENVS:-/tmp/bulwark-dtrack-venvs}
PY=${PYTHON:-python3}
PY313=${PYTHON313:-}
if [[ -z $PY313 ]]; then # the first 3.13 that runs (a pyenv shim may exist and refuse)
    for c in python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3; do
        if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then PY313=$c; break; fi
    done
fi
ADMIN_KEY=dtrack-check-bootstrap-admin-key-0123456789
WRITE=0
[[ ${1:-} == --write ]] && WRITE=1

[[ -x $BULWARK ]] || { echo "error: needs $BULWARK (cargo build --release -p bulwark-cli)" >&2; exit 2; }

# One virtual environment per client set, made once. A failed install is reported, not fatal.
venv() { # NAME PYTHON PACKAGE...
    local dir=$VENVS/$1 python=$2
    shift 2
    if [[ ! -x $dir/bin/python ]]; then
        "$python" -m venv "$dir" && "$dir/bin/pip" install -q "$@" >"$VENVS/$(basename "$dir").log" 2>&1 \
            || { rm -rf "$dir"; return 1; }
    fi
}
mkdir -p "$VENVS"
venv py3-clients "$PY" dependency-track-client==4.0.3 dtrack-auditor==1.5.0 || echo "note: py3-clients venv failed" >&2
if [[ -n $PY313 ]]; then
    venv owasp-1.0.11 "$PY313" owasp-dependency-track-cli==1.0.11 || echo "note: owasp 1.0.11 venv failed" >&2
    venv owasp-latest "$PY313" owasp-dependency-track-cli || echo "note: owasp latest venv failed" >&2
fi

SCRATCH=$(mktemp -d /tmp/bulwark-dtrack-check.XXXXXX)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

"$BULWARK" -q db import "$SHARED/data/osv/PyPI.zip" --db "$SCRATCH/vulndb"
DATABASE=sqlite://$SCRATCH/server.db
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
BULWARK_BOOTSTRAP_API_KEY=$ADMIN_KEY "$BULWARK" serve --database "$DATABASE" \
    --listen "127.0.0.1:$PORT" --db "$SCRATCH/vulndb" >"$SCRATCH/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "$URL/health" >/dev/null && break; sleep 0.1; done
KEY=$("$BULWARK" -q keys create --database "$DATABASE" --name ci --scope upload --scope read --team ci)
WANT=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$SBOM")

ROWS=()
# Is PROJECT VERSION stored with every component (asked with the admin key)? Prints
# "yes (N components, F findings)" or why not, and whether the uploading key sees the project.
stored() {
    "$PY" - "$URL" "$ADMIN_KEY" "$KEY" "$1" "$2" "$WANT" <<'EOF'
import json, sys, urllib.parse, urllib.request
url, key, upload_key, project, version, want = sys.argv[1:]
def get(path, key=key):
    req = urllib.request.Request(url + path, headers={"X-Api-Key": key})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
query = "/api/v1/projects?" + urllib.parse.urlencode({"name": project})
seen = any(p["name"] == project for p in get(query, upload_key)["items"])
items = get(query)["items"]
items = [p for p in items if p["name"] == project]
if not items:
    print("no: project missing"); sys.exit()
versions = get(f"/api/v1/projects/{items[0]['id']}/versions")["items"]
match = [v for v in versions if v["version"] == version]
if not match:
    print("no: version missing"); sys.exit()
v = get(f"/api/v1/versions/{match[0]['id']}")
n = (v.get("snapshot") or {}).get("components")
findings = sum(v["counts"].values())
print((f"yes ({n} components, {findings} findings)" if str(n) == want else f"no: {n} of {want} components")
      + ("" if seen else "; the uploading key does not see it"))
EOF
}
# Records one client run: NAME CALLS PROJECT VERSION -- COMMAND...
check() {
    local name=$1 calls=$2 project=$3 version=$4
    shift 5
    local log=$SCRATCH/check-${#ROWS[@]}.log rc=0
    "$@" >"$log" 2>&1 || rc=$?
    local got="n/a (no upload)"
    [[ $project == - ]] || got=$(stored "$project" "$version")
    local tail
    tail=$(grep -v '^\s*$' "$log" | tail -n 3 | tr '\n|' ' /' | cut -c1-400)
    ROWS+=("| $name | $calls | $rc | $got | ${tail:-–} |")
    echo "== $name: exit $rc, stored: $got" >&2
    sed 's/^/   /' "$log" | tail -n 15 >&2
}

B64=$(base64 -w0 "$SBOM")
printf '{"projectName":"curl-put","projectVersion":"1.0","autoCreate":true,"bom":"%s"}' "$B64" >"$SCRATCH/put.json"
check "curl (DT docs) PUT JSON" "PUT /api/v1/bom" curl-put 1.0 -- \
    curl -fsS -X PUT "$URL/api/v1/bom" -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
    --data-binary "@$SCRATCH/put.json"
TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$SCRATCH/check-0.log" 2>/dev/null || echo none)
check "curl (DT docs) token poll" "GET /api/v1/event/token/$TOKEN" curl-put 1.0 -- \
    curl -fsS "$URL/api/v1/event/token/$TOKEN" -H "X-Api-Key: $KEY"
check "curl (DT docs) POST multipart" "POST /api/v1/bom" curl-post 1.0 -- \
    curl -fsS -X POST "$URL/api/v1/bom" -H "X-Api-Key: $KEY" -F autoCreate=true \
    -F projectName=curl-post -F projectVersion=1.0 -F "bom=@$SBOM"

for v in owasp-1.0.11 owasp-latest; do
    [[ -x $VENVS/$v/bin/owasp-dtrack-cli ]] || { ROWS+=("| owasp-dependency-track-cli ($v) | – | – | not installed | see $VENVS/$v.log |"); continue; }
    ver=$("$VENVS/$v/bin/pip" show owasp-dependency-track-cli | sed -n 's/^Version: //p')
    check "owasp-dependency-track-cli $ver (Python $("$VENVS/$v/bin/python" -c 'import platform; print(platform.python_version())'))" \
        "GET /api/v1/project?name=..., then POST /api/v1/bom (multipart)" "owasp-cli-$ver" 1.0 -- \
        env OWASP_DTRACK_URL="$URL" OWASP_DTRACK_API_KEY="$KEY" "$VENVS/$v/bin/owasp-dtrack-cli" upload \
        --project-name "owasp-cli-$ver" --project-version 1.0 --auto-create "$SBOM"
done

# Again into the same version: now the look-up finds it, and the CLI uploads with its UUID.
if [[ -x $VENVS/owasp-1.0.11/bin/owasp-dtrack-cli ]]; then
    check "owasp-dependency-track-cli 1.0.11, second upload (finds the project, sends its UUID)" \
        "GET /api/v1/project?name=..., then POST /api/v1/bom (multipart, with project UUID)" \
        owasp-cli-1.0.11 1.0 -- \
        env OWASP_DTRACK_URL="$URL" OWASP_DTRACK_API_KEY="$KEY" \
        "$VENVS/owasp-1.0.11/bin/owasp-dtrack-cli" upload --project-name owasp-cli-1.0.11 \
        --project-version 1.0 --auto-create "$SBOM"
fi

if [[ -x $VENVS/owasp-1.0.11/bin/python ]]; then
    ver=$("$VENVS/owasp-1.0.11/bin/pip" show owasp-dependency-track-client | sed -n 's/^Version: //p')
    check "owasp-dependency-track-client $ver, upload_bom" "POST /api/v1/bom (multipart, autoCreate=True)" \
        "owasp-client-$ver" 1.0 -- "$VENVS/owasp-1.0.11/bin/python" - "$URL" "$KEY" "owasp-client-$ver" "$SBOM" <<'EOF'
import pathlib, sys
from owasp_dt import Client
from owasp_dt.api.bom import upload_bom
from owasp_dt.models import BomUploadResponse, UploadBomBody
url, key, project, sbom = sys.argv[1:]
client = Client(base_url=f"{url}/api", headers={"X-Api-Key": key}, raise_on_unexpected_status=False)
body = UploadBomBody(auto_create=True, project_name=project, project_version="1.0",
                     bom=pathlib.Path(sbom).read_text())
resp = upload_bom.sync_detailed(client=client, body=body)
print(resp.status_code, resp.content[:300])
sys.exit(0 if isinstance(resp.parsed, BomUploadResponse) else 1)
EOF
fi

if [[ -x $VENVS/py3-clients/bin/dtrackauditor ]]; then
    ver=$("$VENVS/py3-clients/bin/pip" show dtrack-auditor | sed -n 's/^Version: //p')
    check "dtrack-auditor $ver (-a: upload, then look-up and checks)" \
        "GET /api/v1/project/lookup, PUT /api/v1/bom, GET /api/v1/project/lookup, GET /api/v1/violation/project/{uuid}, GET /api/v1/finding/project/{uuid}" "auditor-$ver" 1.0 -- \
        "$VENVS/py3-clients/bin/dtrackauditor" -u "$URL" -k "$KEY" -p "auditor-$ver" -v 1.0 -f "$SBOM" -a
    check "dtrack-auditor $ver (-a -w: also waits for the token; 30 s limit)" \
        "PUT /api/v1/bom, then polls GET /api/v1/bom/token/{uuid} every 5 s" "auditor-wait-$ver" 1.0 -- \
        timeout 30 "$VENVS/py3-clients/bin/dtrackauditor" -u "$URL" -k "$KEY" -p "auditor-wait-$ver" \
        -v 1.0 -f "$SBOM" -a -w
    ver=$("$VENVS/py3-clients/bin/pip" show dependency-track-client | sed -n 's/^Version: //p')
    check "dependency-track-client $ver (no upload call: project_lookup, list_projects)" \
        "GET /api/v1/project/lookup?name=curl-put&version=1.0, GET /api/v1/project" - - -- \
        "$VENVS/py3-clients/bin/python" - "$URL" "$KEY" <<'EOF'
import sys
from dependencytrack_client import DependencyTrack
dt = DependencyTrack(sys.argv[1], sys.argv[2])
failed = 0
for call in (lambda: dt.project_lookup("curl-put", "1.0"), dt.list_projects):
    try:
        print(call())
    except Exception as e:  # the client raises its own exception types per status
        failed = 1
        print(f"{type(e).__name__}: {e}")
sys.exit(failed)
EOF
fi

TABLE=$(
    echo "## Dependency-Track clients"
    echo
    echo "\`bench/dtrack_client.sh\` on $(date +%F), bulwark on SQLite, key from \`bulwark keys create --scope upload --scope read --team ci\`,"
    echo "SBOM \`crates/bulwark-server/testdata/app-v1.cdx.json\` ($WANT components). \"exit\" is the client's exit status;"
    echo "\"stored\" is what bulwark's own API shows for that project and version afterwards."
    echo
    echo "| client | calls | exit | stored | client's last output |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)
echo "$TABLE"
if [[ $WRITE == 1 ]]; then
    OUT=$REPO/bench/results/server.md
    "$PY" - "$OUT" "$TABLE" <<'EOF'
import pathlib, sys
out, table = pathlib.Path(sys.argv[1]), sys.argv[2]
start, end = "<!-- dtrack -->", "<!-- /dtrack -->"
text = out.read_text() if out.exists() else ""
head = text.split(start, 1)[0].rstrip("\n") + "\n\n" if text else ""
tail = text.split(end, 1)[1] if end in text else "\n"
out.write_text(f"{head}{start}\n{table}\n{end}{tail}")
EOF
fi
