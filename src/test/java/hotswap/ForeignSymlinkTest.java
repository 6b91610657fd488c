package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The classic /tmp attack: another user plants a symbolic link at the name this user will pull to,
 * in a sticky, world-writable directory. The kernel refuses to follow such a link
 * (fs.protected_symlinks, on by default in the major distributions: cp, sqlite3 .backup and a shell's
 * {@code >} all fail with EACCES), but hotswap resolves the destination with realpath, which reads the
 * link instead of following it through open, and then renames the snapshot over the link's target: any
 * file this user may replace, anywhere.
 */
class ForeignSymlinkTest {
    RunningApp app;
    Path root;

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.close();
        }
        Fixtures.deleteTree(root);
    }

    @Test
    void aPullToALinkAnotherUserPlantedInAStickyDirectoryDoesNotReplaceItsTarget() throws Exception {
        Fixtures.assumeRoot("give the link to another user");
        app = RunningApp.start("secret row");
        root = Fixtures.tempDir();
        Path shared = Files.createDirectory(root.resolve("shared")); // as /tmp
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(0, new ProcessBuilder("chmod", "+t", shared.toString()).start().waitFor());
        Path victim = Files.writeString(Files.createDirectory(root.resolve("home")).resolve("authorized_keys"), "ssh-ed25519 AAAA me\n");
        Path link = Files.createSymbolicLink(shared.resolve("backup.sqlite3"), victim);
        assertEquals(0, new ProcessBuilder("chown", "-h", "65534:65534", link.toString()).start().waitFor());

        Fixtures.Result r = app.cli(shared, null, "cp", app.db.toString(), "backup.sqlite3");

        assertEquals("ssh-ed25519 AAAA me\n", Files.readString(victim, java.nio.charset.StandardCharsets.ISO_8859_1),
                "the pull replaced the target of another user's link: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("backup.sqlite3"), r.toString());
        assertEquals(List.of(), Fixtures.leftovers(victim.getParent()));
        assertEquals(List.of(), Fixtures.leftovers(shared));
    }

    @Test
    void aLinkOfOneselfInAStickyDirectoryIsStillFollowed() throws Exception {
        app = RunningApp.start("row");
        root = Fixtures.tempDir();
        Path shared = Files.createDirectory(root.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(0, new ProcessBuilder("chmod", "+t", shared.toString()).start().waitFor());
        Path mine = Files.writeString(Files.createDirectory(root.resolve("mine")).resolve("backup.sqlite3"), "old");
        Files.createSymbolicLink(shared.resolve("backup.sqlite3"), mine);

        Fixtures.Result r = app.cli(shared, null, "cp", app.db.toString(), "backup.sqlite3");

        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("row"), Fixtures.query(mine, "SELECT name FROM items"));
    }
}
