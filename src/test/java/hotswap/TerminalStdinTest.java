package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code hotswap cp - DB} typed with nothing piped in would wait, silently, for a database typed at
 * the keyboard: the push from a terminal is refused at once, saying how to feed it.
 */
class TerminalStdinTest extends AppAndClientTest {
    @Test
    void aPushFromStdinThatIsATerminalIsRefusedAtOnce() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "no script(1) to give the client a terminal");
        byte[] before = Files.readAllBytes(app.db);
        // script(1) runs the client on a pseudo-terminal: its stdin is a terminal, as when typed at a prompt.
        String command = "'" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp - '" + app.db + "'";
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/script", "-qec", command, "/dev/null").directory(client.toFile())
                .redirectErrorStream(true);
        pb.environment().putAll(app.env());
        Process p = pb.start(); // its stdin stays open: nothing is typed, nothing ends the input
        try {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the push from a terminal still waits for input after 30 s");
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(1, p.exitValue(), said);
            assertTrue(said.contains("ERROR: standard input is a terminal, not a database; nothing changed. Pipe or redirect one in: "
                    + "hotswap cp - " + app.db + " < new.sqlite3"), said);
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * {@code hotswap cp DB -} with standard output on the terminal (the {@code > backup} forgotten)
     * poured the whole database onto it: binary pages, and whatever escape sequences the app's users
     * had stored in its rows, played to the operator's terminal, where text from the far side is
     * otherwise shown with its control characters as {@code ?}. The pull is refused, as gzip and curl
     * refuse binary output to a terminal, saying how to redirect it.
     */
    @Test
    void aPullToStdoutThatIsATerminalIsRefusedAndNothingReachesIt() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "no script(1) to give the client a terminal");
        app.post("/items", "name=%1B%5D0%3Bowned%07"); // ESC ] 0 ; owned BEL: sets the terminal's title
        String command = "'" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp '" + app.db + "' -";
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/script", "-qec", command, "/dev/null").directory(client.toFile())
                .redirectErrorStream(true);
        pb.environment().putAll(app.env());
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the pull did not end in 30 s");
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertEquals(1, p.exitValue(), said);
            assertTrue(said.contains("ERROR: standard output is a terminal"), said);
            assertTrue(!said.contains("SQLite format 3") && !said.contains("\u001b]0;owned"), "the database reached the terminal: " + said);
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }
}
