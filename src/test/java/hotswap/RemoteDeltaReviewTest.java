package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Remote and delta copies at their edges: found by the second adversarial review of the remote and delta paths. */
class RemoteDeltaReviewTest {
    private static final String TARGET = RemoteSide.HOST + ":db/production.sqlite3";
    RemoteSide remote;

    @AfterEach
    void tearDown() {
        if (remote != null) {
            remote.close();
        }
    }

    @Test
    void aDeltaPullThatFillsTheDiskSaysWhatHappenedThatTheCopyWasNotChangedAndWhatToDo() throws Exception {
        Path dir = Fixtures.tempDir();
        Path small = Files.createDirectory(dir.resolve("small"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        String why = new String(mount.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.waitFor() == 0, "mounting a tmpfs was refused: " + why);
        try (RunningApp app = RunningApp.start()) {
            String rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
                    + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n";
            Fixtures.createDb(app.db, rows.formatted(1200));
            // An older, smaller copy: it and the copy made to patch fit; the pages the live database adds do not.
            Path copy = Fixtures.itemsDb(small.resolve("copy.sqlite3"));
            Fixtures.createDb(copy, rows.formatted(200));
            byte[] before = Files.readAllBytes(copy);
            long free = Files.getFileStore(small).getUsableSpace();
            assertTrue(2 * Files.size(copy) < free && Files.size(copy) + Files.size(app.db) > free,
                    "the test needs room for the copy twice, not for the live database beside it: " + free);

            Fixtures.Result r = app.cli(small, null, "cp", "--delta", app.db.toString(), "copy.sqlite3");

            assertEquals(1, r.exit(), r.toString());
            assertEquals("ERROR: cannot write " + copy + ": No space left on device; it was not changed. "
                    + "Free some space in " + small + " and pull again\n", r.stderr());
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(copy)));
            assertEquals(List.of(), Fixtures.leftovers(small));
        } finally {
            new ProcessBuilder("umount", "-l", small.toString()).inheritIO().start().waitFor();
            Fixtures.deleteTree(dir);
        }
    }
}
