package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A backup asked for with {@code --keep-previous} is never destroyed: checked before the gate, rescued after it. */
class KeptPreviousTest {
    private Path dir;
    private Path client;
    private Path live;
    private Path previous;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
        live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old-1", "old-2");
        previous = dir.resolve("live.sqlite3.previous");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    private Hotswap started() throws Exception {
        Hotswap h = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build();
        cleanup.add(h);
        h.start();
        return h;
    }

    private Fixtures.Result push(Hotswap h, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("cp", "new.sqlite3", live.toString()));
        args.addAll(List.of(options));
        return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null, args.toArray(String[]::new));
    }

    @Test
    void aDirectoryInThePlaceOfTheKeptFileRefusesThePushBeforeAnythingChanges() throws Exception {
        Hotswap h = started();
        Files.createDirectory(previous);
        byte[] before = Files.readAllBytes(live); // no connection is open yet
        Fixtures.Result r = push(h, "--keep-previous");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: cannot keep the previous database as " + previous
                + ": it exists and is a directory; nothing changed. Move it away, or push without --keep-previous"), r.stderr());
        assertArrayEquals(before, Files.readAllBytes(live), "the live database changed");
        assertEquals(List.of("old-1", "old-2"), Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
        assertTrue(Files.isDirectory(previous));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void whenKeepingFailsAfterTheRenameTheOldDatabaseStaysUnderAPrintedNameThatSurvivesARestart() throws Exception {
        Hotswap h = started();
        // Runs inside the gate, after the check of --keep-previous: the rename to .previous then fails.
        h.database(live).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                Files.createDirectory(previous);
                Files.writeString(previous.resolve("not-empty"), "x");
            }
        });
        Fixtures.Result r = push(h, "--keep-previous");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: the database was replaced, but keeping the old one as " + previous + " failed: "),
                r.stderr());
        Matcher m = Pattern.compile("the old database is kept as (\\S+) instead").matcher(r.stderr());
        assertTrue(m.find(), r.stderr());
        Path kept = Path.of(m.group(1));
        assertEquals(dir, kept.getParent(), r.stderr());
        assertEquals(List.of("old-1", "old-2"), Fixtures.query(kept, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items ORDER BY id"));

        h.close();
        started(); // a restart removes hotswap's leftovers, never the rescued database
        assertTrue(Files.exists(kept), kept + " must survive a restart");
        assertEquals(List.of("old-1", "old-2"), Fixtures.query(kept, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
        assertFalse(Files.exists(previous.resolve("live.sqlite3")));
    }

    /**
     * A -wal beside DB.previous (a sqlite3 shell inspecting it, or one that crashed in it) would be
     * read with the newly kept database and replay other pages over it: refused before anything changes.
     */
    @Test
    void aKeptFileWithAWalBesideItRefusesThePushBeforeAnythingChanges() throws Exception {
        Fixtures.itemsDb(previous, "kept-last-time");
        Path wal = dir.resolve("live.sqlite3.previous-wal");
        byte[] staleWal;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + previous);
             java.sql.Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA wal_autocheckpoint=0");
            s.execute("INSERT INTO items(name) VALUES ('stale')");
            staleWal = Files.readAllBytes(wal);
        }
        Files.write(wal, staleWal);
        Hotswap h = started();
        byte[] before = Files.readAllBytes(live);
        Fixtures.Result r = push(h, "--keep-previous");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: cannot keep the previous database as " + previous + ": " + wal
                + " is beside it"), r.stderr());
        assertArrayEquals(before, Files.readAllBytes(live), "the live database changed");
        assertArrayEquals(staleWal, Files.readAllBytes(wal));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /** rename(2) between two names of one file does nothing: the hold on the old file must not stay behind. */
    @Test
    void aKeptFileThatIsAHardLinkToTheLiveDatabaseIsReplacedAndNothingIsLeftBehind() throws Exception {
        Files.createLink(previous, live);
        Hotswap h = started();
        Fixtures.Result r = push(h, "--keep-previous");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of("old-1", "old-2"), Fixtures.query(previous, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /**
     * Killed (power loss, SIGKILL, OOM killer) after the rename and before the replaced database got
     * its name {@code .previous}: a restart must not take the only copy of it for a temp file.
     */
    @Test
    void anAppKilledBetweenTheRenameAndKeepingLeavesTheOldDatabaseWhichARestartKeeps() throws Exception {
        Path socket = dir.resolve("hs.sock");
        Process app = new ProcessBuilder(Fixtures.java(), "-cp", Path.of(DiesAfterTheRename.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                        + java.io.File.pathSeparator + Fixtures.jar() + java.io.File.pathSeparator + Fixtures.sqliteJar(),
                DiesAfterTheRename.class.getName(), live.toString(), socket.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        cleanup.add(app::destroyForcibly);
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(app.getInputStream()));
        assertEquals("ready", out.readLine());
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null,
                "cp", "new.sqlite3", live.toString(), "--keep-previous");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(app.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items ORDER BY id"));

        started(); // the restart after the crash
        List<Path> kept;
        try (var s = Files.list(dir)) {
            kept = s.filter(p -> p.getFileName().toString().startsWith("live.sqlite3.previous")).toList();
        }
        assertEquals(1, kept.size(), "the replaced database must be kept under a name of its own: " + kept);
        assertEquals(List.of("old-1", "old-2"), Fixtures.query(kept.get(0), "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /** An app that dies the instant its first swap has renamed the new database into place. */
    public static final class DiesAfterTheRename {
        public static void main(String[] args) throws Exception {
            Path db = Path.of(args[0]);
            Hotswap h = Hotswap.builder().database(db).socket(Path.of(args[1])).build();
            h.database(db).addSwapListener(new SwapListener() {
                @Override
                public void afterSwap(ManagedDatabase database, boolean replaced) {
                    Runtime.getRuntime().halt(137);
                }
            });
            h.start();
            System.out.println("ready");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}
