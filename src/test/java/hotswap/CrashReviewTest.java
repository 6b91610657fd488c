package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A crash at an unlucky instant, and the unlucky operator: found by the review of crashes around delta copies and kept databases. */
class CrashReviewTest {
    private Path dir;
    private Path client;
    private Path live;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
        live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    /**
     * The app dies (OOM killer, a deploy's kill -9) after the rename and before it could say OK: the
     * push has happened. Exit status 1 means "nothing changed unless the message says otherwise", so
     * the message must say that the database may have been replaced, as it does for a remote app.
     */
    @Test
    void anAppThatDiesAfterTheRenameNeverHasItsPushReportedAsIfNothingChanged() throws Exception {
        Path socket = dir.resolve("hs.sock");
        Process app = new ProcessBuilder(Fixtures.java(), "-cp", Path.of(KeptPreviousTest.DiesAfterTheRename.class
                        .getProtectionDomain().getCodeSource().getLocation().toURI()) + java.io.File.pathSeparator + Fixtures.jar()
                        + java.io.File.pathSeparator + Fixtures.sqliteJar(),
                KeptPreviousTest.DiesAfterTheRename.class.getName(), live.toString(), socket.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        cleanup.add(app::destroyForcibly);
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(app.getInputStream()));
        assertEquals("ready", out.readLine());

        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "cp", "new.sqlite3", live.toString());

        assertEquals(1, r.exit(), r.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
        assertTrue(r.stderr().contains("ERROR: the app closed the connection before the command finished; " + live
                + " holds the old database or the new one, whole: pull it, or read the app's log, to see which"), r.stderr());
    }
}
