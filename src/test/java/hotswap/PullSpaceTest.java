package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pull does not fill the disk: on a real 2 MiB file system (a tmpfs the test mounts, as root)
 * holding a database of over 1 MiB, a pull is refused before it writes anything, naming the sizes.
 */
class PullSpaceTest {
    private Path base;
    private Path small;
    private Path client;
    private boolean mounted;

    @BeforeEach
    void mountSmallFileSystem() throws Exception {
        base = Fixtures.tempDir();
        client = Fixtures.tempDir();
        small = Files.createDirectory(base.resolve("small"));
        Fixtures.mountTmpfs(small, "32m");
        mounted = true;
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            Fixtures.unmount(small);
        }
        Fixtures.deleteTree(base);
        Fixtures.deleteTree(client);
    }

    @Test
    void aPullWhoseSnapshotCannotFitBesideTheLiveDatabaseIsRefusedBeforeItStarts() throws Exception {
        Path live = Fixtures.createDb(small.resolve("live.sqlite3"), "PRAGMA journal_mode=WAL",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
                        + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n");
        long size = Files.size(live);
        fill(Files.getFileStore(small).getUsableSpace() - size / 2); // leaves less than the snapshot needs
        long free = Files.getFileStore(small).getUsableSpace();
        assertTrue(size > free, "the test needs a database larger than the space left: " + size + " vs " + free);
        try (Hotswap hotswap = Hotswap.builder().socket(base.resolve("hs.sock")).database(live).build()) {
            hotswap.start();
            Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                    "cp", live.toString(), "pulled.sqlite3");
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().contains("ERROR: not enough disk space in " + small + " for the snapshot: it needs up to "),
                    r.stderr());
            assertTrue(r.stderr().contains(" bytes (live.sqlite3 " + size + " bytes, its -wal "), r.stderr());
            assertTrue(r.stderr().contains(" bytes are free, of which 335544 stay for the app's own writes; nothing was copied. Free some space "
                    + "there and pull again"), r.stderr());
            assertFalse(Files.exists(client.resolve("pulled.sqlite3")));
            assertEquals(List.of(), Fixtures.leftovers(small));
        }
    }

    /**
     * A local delta pull patches a copy of its destination made beside it, once the app's snapshot
     * is taken: on the database's own file system that copy must leave the app's reserve alone, as
     * the snapshot does, else the app's writes may fail while it lasts. Here there is room for the
     * snapshot and the copy, but not for the reserve too.
     */
    @Test
    void aLocalDeltaPullWhoseCopyWouldTakeTheAppsReserveIsRefusedWithNothingChanged() throws Exception {
        Path live = Fixtures.createDb(Files.createDirectory(small.resolve("app")).resolve("live.sqlite3"), "PRAGMA journal_mode=WAL",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
                        + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n");
        Path backups = Files.createDirectory(small.resolve("backups"));
        Path older = Files.copy(live, backups.resolve("pulled.sqlite3"));
        byte[] before = Files.readAllBytes(older);
        Fixtures.createDb(live, "INSERT INTO items(name) VALUES ('newer')");
        long reserve = Math.min(64L << 20, Files.getFileStore(small).getTotalSpace() / 100);
        try (Hotswap hotswap = Hotswap.builder().socket(base.resolve("hs.sock")).database(live).build()) {
            hotswap.start(); // its connection's -shm takes room too: measured after
            // Room for the snapshot (the live file's size) and the copy, and half the reserve.
            fill(Files.getFileStore(small).getUsableSpace() - Files.size(live) - before.length - reserve / 2);
            Fixtures.Result r = Fixtures.cli(backups, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                    "cp", live.toString(), "pulled.sqlite3", "--delta");
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().contains("ERROR: no room beside " + older + " for the copy a delta pull patches: it needs "
                    + before.length + " bytes, and "), r.stderr());
            assertTrue(r.stderr().contains(" stay for the app's own writes, should this be its file system; nothing changed. "
                    + "Pull without --delta (on the database's own file system a whole pull is a hard link, which takes no room), "
                    + "or free some space"), r.stderr());
            assertArrayEquals(before, Files.readAllBytes(older));
            assertEquals(List.of(), Fixtures.leftovers(backups));
            assertEquals(List.of(), Fixtures.leftovers(live.getParent()));
        }
    }

    /**
     * The copy a delta pull patches grows to the app's snapshot: pulled over an older, smaller copy
     * of a database that has grown since, it ends as large as the database, not as the file it
     * started from. Here there is room for the snapshot and the older file's size with the reserve,
     * and for the copy as it grows, but then with half the reserve: the pull must not eat it.
     */
    @Test
    void aLocalDeltaPullOverASmallerOlderCopyLeavesTheAppsReserveForTheSizeTheCopyGrowsTo() throws Exception {
        String rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
                + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n";
        Path live = Fixtures.createDb(Files.createDirectory(small.resolve("app")).resolve("live.sqlite3"), "PRAGMA journal_mode=WAL",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)", rows.formatted(1200));
        Path backups = Files.createDirectory(small.resolve("backups"));
        Path older = Fixtures.createDb(backups.resolve("pulled.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                rows.formatted(100));
        byte[] before = Files.readAllBytes(older);
        long reserve = Math.min(64L << 20, Files.getFileStore(small).getTotalSpace() / 100);
        try (Hotswap hotswap = Hotswap.builder().socket(base.resolve("hs.sock")).database(live).build()) {
            hotswap.start(); // its connection's -shm takes room too: measured after
            long size = Files.size(live);
            assertTrue(size > 4 * before.length, size + " vs " + before.length);
            // Room for the snapshot and the copy as large as the database, and half the reserve.
            fill(Files.getFileStore(small).getUsableSpace() - size - size - reserve / 2);
            Fixtures.Result r = Fixtures.cli(backups, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                    "cp", live.toString(), "pulled.sqlite3", "--delta");
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().contains("ERROR: no room beside " + older + " for the copy a delta pull patches: it needs "
                    + size + " bytes, and "), r.stderr());
            assertArrayEquals(before, Files.readAllBytes(older));
            assertEquals(List.of(), Fixtures.leftovers(backups));
            assertEquals(List.of(), Fixtures.leftovers(live.getParent()));
        }
    }

    /** Takes {@code bytes} of the small file system with a file of its own. */
    private void fill(long bytes) throws Exception {
        assertTrue(bytes > 0, "nothing to fill: " + bytes);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(small.resolve("filler").toFile(), "rw")) {
            byte[] block = new byte[4096];
            for (long written = 0; written + block.length <= bytes; written += block.length) {
                f.write(block);
            }
        }
    }
}
