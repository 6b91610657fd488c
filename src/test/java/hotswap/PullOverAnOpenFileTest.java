package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A pull lands by rename. A process that has the destination open (an app serving it, a sqlite3
 * shell) keeps the replaced file: what it writes afterwards is lost with it, and a SQLite
 * connection opens its journal by name, which would then be the pulled file's. The client refuses,
 * as the app refuses a swap under another process.
 */
class PullOverAnOpenFileTest extends AppAndClientTest {
    @Test
    void aPullOverAFileAnotherProcessHasOpenIsRefusedAndLeavesItAsItWas() throws Exception {
        Path copy = Fixtures.itemsDb(client.resolve("copy.sqlite3"), "an older copy");
        byte[] before = Files.readAllBytes(copy);
        Process holder = new ProcessBuilder("bash", "-c", "exec 3<>\"$0\"; echo open; exec sleep 60", copy.toString()).start();
        try {
            try (InputStream out = holder.getInputStream()) {
                assertEquals("open\n", new String(out.readNBytes(5), StandardCharsets.UTF_8));
            }
            for (List<String> args : List.of(List.of("cp", app.db.toString(), "copy.sqlite3"),
                    List.of("cp", "--delta", app.db.toString(), "copy.sqlite3"))) {
                Fixtures.Result r = app.cli(client, null, args.toArray(String[]::new));

                assertEquals(1, r.exit(), r.toString());
                assertTrue(r.stderr().startsWith("ERROR: " + copy.toRealPath() + " is open in another process (pid " + holder.pid()
                        + " sleep)"), r.stderr());
                assertTrue(r.stderr().contains(" was not changed. Stop that process first"), r.stderr());
                assertArrayEquals(before, Files.readAllBytes(copy), args.toString());
                assertEquals(List.of(), Fixtures.leftovers(client));
            }
        } finally {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }

        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "copy.sqlite3");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(copy, "SELECT name FROM items"));
    }

    /**
     * Renaming over one name of a file leaves a process that has it open by another name (a hard
     * link) as it was: its descriptor and its name still hold the old file, and SQLite there opens
     * its journals by that name. Only the name pulled to is replaced; one it was opened by is still refused.
     */
    @Test
    void aPullOverAFileAnotherProcessOnlyReadsReplacesItAndTheReaderKeepsTheOldFile() throws Exception {
        Path copy = Fixtures.itemsDb(client.resolve("copy.sqlite3"), "an older copy");
        byte[] before = Files.readAllBytes(copy);
        Process reader = new ProcessBuilder("bash", "-c", "exec 3<\"$0\"; echo open; read -r; exec cat <&3", copy.toString()).start();
        try {
            try (InputStream out = reader.getInputStream()) {
                assertEquals("open\n", new String(out.readNBytes(5), StandardCharsets.UTF_8));
                for (List<String> args : List.of(List.of("cp", app.db.toString(), "copy.sqlite3"),
                        List.of("cp", "--delta", app.db.toString(), "copy.sqlite3"))) {
                    Fixtures.Result r = app.cli(client, null, args.toArray(String[]::new));
                    assertEquals(0, r.exit(), r.toString());
                }
                reader.getOutputStream().write('\n');
                reader.getOutputStream().close();
                assertArrayEquals(before, out.readAllBytes());
            }
        } finally {
            reader.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(copy, "SELECT name FROM items"));
        assertEquals(List.of(), Fixtures.leftovers(client));
    }
}
