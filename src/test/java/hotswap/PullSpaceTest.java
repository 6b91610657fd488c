package hotswap;

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
        Fixtures.mountTmpfs(small, "2m");
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
            assertTrue(r.stderr().contains(" bytes are free, of which 20971 stay for the app's own writes; nothing was copied. Free some space "
                    + "there and pull again"), r.stderr());
            assertFalse(Files.exists(client.resolve("pulled.sqlite3")));
            assertEquals(List.of(), Fixtures.leftovers(small));
        }
    }
}
