package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a terminal the CLI draws a progress line; --quiet or a non-terminal stderr keep the plain
 * output contract. The terminal is a real pseudo-terminal from util-linux's {@code script}.
 */
class ProgressTest {
    RunningApp app;
    Path client;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script (util-linux) is not installed");
        app = RunningApp.start("alpha");
        client = Fixtures.tempDir();
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
        Fixtures.deleteTree(client);
    }

    /** Runs the CLI with its stdout and stderr on a pseudo-terminal; returns what the terminal showed. */
    private Fixtures.Result onTerminal(String args) throws Exception {
        String command = Fixtures.java() + " -jar " + Fixtures.jar() + " " + args;
        return Fixtures.run(client, app.env(), null, List.of("script", "-qec", command, "/dev/null"));
    }

    @Test
    void aPushOnATerminalShowsPhasesAndPercentThenOk() throws Exception {
        Fixtures.Result r = onTerminal("cp new.sqlite3 " + app.db);
        assertEquals(0, r.exit(), r.toString());
        String screen = r.out();
        assertTrue(screen.contains("sending: "), screen);
        assertTrue(screen.contains("(100%)"), screen);
        assertTrue(screen.contains("swapping: "), screen);
        assertTrue(screen.contains("Swapping database..."), screen);
        assertTrue(screen.endsWith("OK\r\n"), screen);
    }

    @Test
    void aPullOnATerminalShowsReceivingProgress() throws Exception {
        Fixtures.Result r = onTerminal("cp " + app.db + " pulled.sqlite3");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("receiving: "), r.out());
        assertTrue(r.out().endsWith("OK\r\n"), r.out());
    }

    @Test
    void aDeltaCopyOnATerminalShowsItsPhasesAndTheShareSaved() throws Exception {
        assertEquals(0, onTerminal("cp " + app.db + " copy.sqlite3").exit());
        Fixtures.Result push = onTerminal("cp --delta copy.sqlite3 " + app.db);
        Fixtures.Result pull = onTerminal("cp --delta " + app.db + " copy.sqlite3");
        assertEquals(0, push.exit(), push.toString());
        assertEquals(0, pull.exit(), pull.toString());
        for (String phase : List.of("snapshot: ", "hashing: ", "comparing: ", "sending 0 of 2 pages (100% saved): ")) {
            assertTrue(push.out().contains(phase), phase + "\n" + push.out());
        }
        for (String phase : List.of("hashing: ", "comparing: ", "receiving 0 of 2 pages (100% saved): ")) {
            assertTrue(pull.out().contains(phase), phase + "\n" + pull.out());
        }
        assertTrue(push.out().endsWith("OK\r\n") && pull.out().endsWith("OK\r\n"), push.out() + pull.out());
    }

    @Test
    void quietHidesTheProgressLine() throws Exception {
        Fixtures.Result r = onTerminal("cp new.sqlite3 " + app.db + " --quiet");
        assertEquals(0, r.exit(), r.toString());
        assertFalse(r.out().contains("\033[K"), r.out());
        assertEquals("Swapping database...\r\nOK\r\n", r.out());
    }
}
