package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Another process (a real sqlite3 shell) holds a read transaction on the live WAL database while
 * the app commits: the checkpoint inside the gate cannot finish, so the swap is refused within its
 * own timeout, and nothing committed is lost, in the live database or in {@code --keep-previous}.
 */
class CheckpointBlockedTest extends AppAndClientTest {
    private static final String REFUSED = "ERROR: another connection holds a read transaction on ";

    @BeforeEach
    void writeTheNewDatabase() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/sqlite3")) || onPath("sqlite3"),
                "the sqlite3 CLI is not installed");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @Test
    void aPushIsRefusedWhileAnotherProcessReadsAndNoCommittedRowIsLost() throws Exception {
        Process reader = new ProcessBuilder("sqlite3", app.db.toString()).redirectErrorStream(true).start();
        try (OutputStream stdin = reader.getOutputStream();
             BufferedReader out = new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8))) {
            stdin.write("BEGIN;\nSELECT count(*) FROM items;\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            assertEquals("2", out.readLine(), "the sqlite3 reader's transaction sees the two rows");
            // Commits after the reader's snapshot: their WAL frames cannot be checkpointed while it reads.
            assertEquals(201, app.post("/items", "name=charlie").statusCode());
            assertEquals(201, app.post("/items", "name=delta").statusCode());

            Fixtures.Result seen = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
            assertEquals(1, seen.exit(), seen.toString());
            assertTrue(seen.stderr().contains("ERROR: another process has " + app.db + " open (pid " + reader.pid() + " sqlite3)"),
                    seen.stderr());
            // --force passes that check, as a process of another user would (it is hidden from the app): the
            // checkpoint still refuses.
            for (String[] options : List.of(new String[] {"--force"}, new String[] {"--force", "--keep-previous"})) {
                List<String> args = new java.util.ArrayList<>(List.of("cp", "new.sqlite3", app.db.toString(), "--timeout", "300"));
                args.addAll(List.of(options));
                Fixtures.Result push = app.cli(client, null, args.toArray(String[]::new));
                assertEquals(1, push.exit(), push.toString());
                assertTrue(push.stderr().contains(REFUSED + app.db + " "), push.stderr());
                assertTrue(push.stderr().contains("within the swap's timeout of 300 ms"), push.stderr());
                assertTrue(push.stderr().contains("; nothing changed. End that transaction or stop that process, then push again"),
                        push.stderr());
                assertEquals("[\"alpha\",\"bravo\",\"charlie\",\"delta\"]", app.get("/items").body());
                assertFalse(Files.exists(Swap.previousOf(app.db)), "nothing is kept from a refused push");
                assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
            }
            stdin.write("COMMIT;\n.quit\n".getBytes(StandardCharsets.UTF_8));
        } finally {
            if (!reader.waitFor(10, TimeUnit.SECONDS)) {
                reader.destroyForcibly();
            }
        }

        Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString(), "--keep-previous");
        assertEquals(0, push.exit(), push.toString());
        assertEquals("[\"new\"]", app.get("/items").body());
        assertEquals(List.of("alpha", "bravo", "charlie", "delta"),
                Fixtures.query(Swap.previousOf(app.db), "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
