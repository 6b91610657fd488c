package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.OpenHandles;
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
 * Another process of the app's user (a sqlite3 shell at its prompt) has the live WAL database open
 * while a push swaps it. It holds the old file's descriptor, but opens the -wal and -shm by name
 * when it first reads: after the rename those are the new database's, so it would read the old
 * file through the new file's WAL, and its writes land in the new database as pages of the old one.
 */
class ForeignProcessTest extends AppAndClientTest {
    @BeforeEach
    void newDb() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/sqlite3")), "the sqlite3 CLI is not installed");
        // The live schema's text, as the schema check compares it, but the items table rooted at page 3 (page 2 is
        // free): any database built another way (a migration, tables made in another order) is laid out differently.
        Fixtures.createDb(client.resolve("new.sqlite3"), "PRAGMA journal_mode=WAL", "CREATE TABLE junk(x)",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO items(name) VALUES ('new')",
                "DROP TABLE junk");
    }

    /** A sqlite3 shell on the live database, with the file open (the shell opens an existing file at once) and nothing read. */
    private Process shellAtItsPrompt() throws Exception {
        Process shell = new ProcessBuilder("sqlite3", app.db.toString()).redirectErrorStream(true).start();
        Object inode = OpenHandles.inodeOf(app.db);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!OpenHandles.otherProcessesHolding(inode, OpenHandles.NO_DEADLINE).contains("pid " + shell.pid() + " sqlite3")) {
            assertTrue(System.nanoTime() < deadline, "the sqlite3 shell did not open the database");
            Thread.sleep(10);
        }
        return shell;
    }

    private static List<String> finish(Process shell, String commands) throws Exception {
        List<String> lines = new java.util.ArrayList<>();
        try (OutputStream stdin = shell.getOutputStream();
             BufferedReader out = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8))) {
            stdin.write((commands + "\n.quit\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
        } finally {
            if (!shell.waitFor(10, TimeUnit.SECONDS)) {
                shell.destroyForcibly();
            }
        }
        return lines;
    }

    @Test
    void aSqliteShellThatHadTheLiveDatabaseOpenDuringAPushDoesNotCorruptTheDatabaseItServes() throws Exception {
        Process shell = shellAtItsPrompt();
        Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
        assertEquals(201, app.post("/items", "name=after").statusCode());
        List<String> said = finish(shell, "INSERT INTO items(name) VALUES ('shell');");
        app.app.close(); // checkpoints the WAL into the file
        assertEquals(List.of("ok"), Fixtures.query(app.db, "PRAGMA integrity_check"),
                "the live database after the push (" + push + ") and the shell's insert (" + said + ")");
    }

    @Test
    void aPushIsRefusedWhileAnotherProcessHasTheLiveDatabaseOpenUnlessForced() throws Exception {
        Process shell = shellAtItsPrompt();
        try {
            Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
            assertEquals(1, push.exit(), push.toString());
            assertTrue(push.stderr().contains("ERROR: another process has " + app.db + " open (pid " + shell.pid() + " sqlite3)"),
                    push.stderr());
            assertTrue(push.stderr().contains("; nothing changed. "), push.stderr());
            assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
            assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        } finally {
            assertEquals(List.of("alpha,bravo"), finish(shell, "SELECT group_concat(name) FROM items;"));
        }
        Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
        assertEquals(0, push.exit(), push.toString());
        assertEquals("[\"new\"]", app.get("/items").body());

        Fixtures.itemsDb(client.resolve("newer.sqlite3"), "newer");
        Process other = shellAtItsPrompt();
        try {
            Fixtures.Result forced = app.cli(client, null, "cp", "newer.sqlite3", app.db.toString(), "--force");
            assertEquals(0, forced.exit(), forced.toString());
            assertEquals("[\"newer\"]", app.get("/items").body());
        } finally {
            other.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
