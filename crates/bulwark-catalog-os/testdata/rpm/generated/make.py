"""Regenerates the small SQLite rpm databases of this folder from go-rpmdb's
cbl-mariner-2.0/rpmdb.sqlite (MIT): python3 make.py PATH/TO/rpmdb.sqlite"""
import os, shutil, sqlite3, sys

SCHEMA = "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro&immutable=1", uri=True)
rows = source.execute("SELECT hnum, blob FROM Packages ORDER BY length(blob) LIMIT 12").fetchall()
rows.sort()

# 512-byte pages: every blob overflows and the table needs interior pages.
for name in ["small.sqlite"]:
    if os.path.exists(name):
        os.remove(name)
db = sqlite3.connect("small.sqlite")
db.execute("PRAGMA page_size = 512")
db.execute(SCHEMA)
db.executemany("INSERT INTO Packages VALUES (?, ?)", rows)
db.commit()
db.close()

# WAL mode: two packages checkpointed into the file, a third only in the WAL.
os.makedirs("wal", exist_ok=True)
for name in ["wal.sqlite", "wal.sqlite-wal", "wal.sqlite-shm"]:
    if os.path.exists(name):
        os.remove(name)
db = sqlite3.connect("wal.sqlite")
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute(SCHEMA)
db.executemany("INSERT INTO Packages VALUES (?, ?)", rows[:2])
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.execute("INSERT INTO Packages VALUES (?, ?)", rows[2])
db.commit()
shutil.copy("wal.sqlite", "wal/rpmdb.sqlite")
shutil.copy("wal.sqlite-wal", "wal/rpmdb.sqlite-wal")
db.close()
for name in ["wal.sqlite", "wal.sqlite-wal", "wal.sqlite-shm"]:
    if os.path.exists(name):
        os.remove(name)
print([r[0] for r in rows])
