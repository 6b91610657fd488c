package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pull replaces its destination by rename. Where the destination is a named pipe or a device
 * (a FIFO a reader waits on, a copy of /dev/null), that rename would put a regular file in its place
 * and report success: the reader never gets a byte, and the node is gone. As root (an app in a
 * container), {@code hotswap cp db /dev/null} would replace the system's /dev/null.
 */
class PullOntoSpecialFileTest extends AppAndClientTest {
    @Test
    void aPullOntoANamedPipeIsRefusedAndThePipeStays() throws Exception {
        Path fifo = client.resolve("backup.sqlite3");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());

        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "backup.sqlite3");

        assertTrue(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS) == false && Files.exists(fifo, LinkOption.NOFOLLOW_LINKS),
                "the named pipe was replaced by a regular file: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("hotswap cp") && r.stderr().contains(" - "), r.toString());
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    @Test
    void aPullOntoACharacterDeviceIsRefusedAndTheDeviceStays() throws Exception {
        Path devNull = client.resolve("null");
        // A copy of /dev/null (mknod needs root, as CI runs).
        org.junit.jupiter.api.Assumptions.assumeTrue(
                new ProcessBuilder("mknod", devNull.toString(), "c", "1", "3").start().waitFor() == 0, "mknod refused");

        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "null");

        assertEquals("character", Files.isRegularFile(devNull, LinkOption.NOFOLLOW_LINKS) ? "regular" : "character",
                "the device node was replaced by a regular file: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    /**
     * Into a directory the pull takes the database's file name there: a named pipe, or a
     * directory, by that name is refused as it is when named outright, and stays.
     */
    @Test
    void aPullIntoADirectoryWhereANamedPipeOrADirectoryHasTheDatabasesNameIsRefusedAndItStays() throws Exception {
        Path pipes = Files.createDirectories(client.resolve("pipes"));
        Path fifo = pipes.resolve(app.db.getFileName());
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path dirs = Files.createDirectories(client.resolve("dirs").resolve(app.db.getFileName()));

        for (String dst : List.of("pipes/", "pipes", "dirs/", "dirs")) {
            Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), dst);
            assertEquals(1, r.exit(), dst + ": " + r);
            assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("nothing changed"), dst + ": " + r);
            assertEquals(List.of(), Fixtures.leftovers(client.resolve(dst)), dst);
        }
        assertTrue(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS),
                "the named pipe was replaced by a regular file");
        assertTrue(Files.isDirectory(dirs, LinkOption.NOFOLLOW_LINKS));
        try (java.util.stream.Stream<Path> in = Files.list(dirs)) {
            assertEquals(List.of(), in.toList());
        }
    }
}
