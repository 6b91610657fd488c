package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a broken or hostile far side (a relay, a remote app, a fake server, the transport's stderr)
 * can make the client do: nothing it did not ask for. Its exit status counts only as 0 or 1 (the
 * process's status is that number modulo 256: 256 would make a pull that wrote nothing exit 0), and
 * its text reaches the terminal with control characters made visible, as scp's since CVE-2019-6109
 * and CVE-2019-6110: no window title set, no screen cleared, no ERROR line rewritten as OK.
 */
class FarSideTest {
    private static final String EVIL = "\\x1b]0;owned\\x07\\x1b[2J\\x1b[1A\\rOK\\x9b31m";
    RemoteSide remote;

    @AfterEach
    void tearDown() {
        if (remote != null) {
            remote.close();
        }
    }

    @Test
    void anExitStatusThatIsNotOneTheAppSendsNeverBecomesSuccess() throws Exception {
        remote = new RemoteSide("");
        Path fake = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay() + """
                frame(b"X", struct.pack(">i", 256))
                t.join(5)
                """);
        Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "new");
        for (List<String> args : List.of(
                List.of("cp", "--rsh", fake.toString(), RemoteSide.HOST + ":db/production.sqlite3", "pulled.sqlite3"),
                List.of("cp", "--rsh", fake.toString(), "new.sqlite3", RemoteSide.HOST + ":db/production.sqlite3"),
                List.of("status", "--rsh", fake.toString(), RemoteSide.HOST + ":"))) {
            Fixtures.Result r = Fixtures.cli(remote.local, remote.env(), null, args.toArray(String[]::new));
            assertEquals(1, r.exit(), args + ": " + r);
            assertTrue(r.stderr().startsWith("ERROR: "), args + ": " + r);
        }
        assertFalse(Files.exists(remote.local.resolve("pulled.sqlite3")));
    }

    @Test
    void controlCharactersFromTheFarSideNeverReachTheTerminal() throws Exception {
        remote = new RemoteSide("");
        Path messages = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay()
                + "frame(b'E', 'ERROR: " + EVIL + "\\n'.encode())\n"
                + "frame(b'O', '" + EVIL + "\\n'.encode())\n"
                + "frame(b'X', struct.pack('>i', 1))\nt.join(5)\n");
        Path dies = RemoteSide.script(remote.root.resolve("dying-ssh"), """
                #!/usr/bin/env python3
                import sys
                sys.stderr.write('%s\\n')
                sys.exit(255)
                """.formatted(EVIL));
        // A control message the client does not expect, and an offer whose size is no number: the
        // protocol error quotes them, and that quote reaches the terminal too.
        String control = "def strings(*ss):\n"
                + "    b = struct.pack('>H', len(ss))\n"
                + "    for s in ss:\n"
                + "        e = s.encode()\n"
                + "        b += struct.pack('>H', len(e)) + e\n"
                + "    return b\n";
        Path odd = RemoteSide.script(remote.root.resolve("odd-relay"), RemoteSide.fakeRelay() + control
                + "frame(b'C', strings('" + EVIL + "'))\nt.join(5)\n");
        Path badSize = RemoteSide.script(remote.root.resolve("bad-size-relay"), RemoteSide.fakeRelay() + control
                + "frame(b'C', strings('pull', '" + EVIL + "', 'x', 'y', '600'))\nt.join(5)\n");
        for (List<String> args : List.of(
                List.of("cp", "--rsh", odd.toString(), RemoteSide.HOST + ":db/production.sqlite3", "pulled.sqlite3"),
                List.of("cp", "--rsh", badSize.toString(), RemoteSide.HOST + ":db/production.sqlite3", "pulled.sqlite3"),
                List.of("cp", "--rsh", messages.toString(), RemoteSide.HOST + ":db/production.sqlite3", "pulled.sqlite3"),
                List.of("status", "--rsh", messages.toString(), RemoteSide.HOST + ":"),
                List.of("cp", "--rsh", dies.toString(), RemoteSide.HOST + ":db/production.sqlite3", "pulled.sqlite3"),
                List.of("status", "--rsh", dies.toString(), RemoteSide.HOST + ":"))) {
            Fixtures.Result r = Fixtures.cli(remote.local, remote.env(), null, args.toArray(String[]::new));
            assertEquals(1, r.exit(), args + ": " + r);
            String shown = r.stderr() + r.out();
            assertFalse(shown.chars().anyMatch(c -> c == 0x1b || c == 0x07 || c == '\r' || (c >= 0x80 && c <= 0x9f)),
                    args + ": control characters from the far side reached the terminal: " + shown.replace("\u001b", "<ESC>"));
        }
    }

    /**
     * Junk from the far side once the push's bytes have gone (here after its OK): the app may have
     * swapped, so the error must not leave the user thinking nothing changed, as a cut transport's
     * does not either.
     */
    @Test
    void aProtocolErrorOnceAPushsBytesHaveGoneSaysTheAppMayHaveTheNewDatabase() throws Exception {
        Fixtures.Result r = pushThroughAFakeRelay(
                "frame(b'C', strings(b'push'))\nimport time\ntime.sleep(0.5)\nframe(b'O', b'OK\\n')\nframe(b'C', strings(b'bogus'))\n");
        assertEquals(1, r.exit(), r.toString());
        String error = r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse("");
        assertTrue(error.startsWith("ERROR: protocol error: "), r.toString());
        assertTrue(error.contains("the app there keeps the old database or the new one, whole"), r.toString());
    }

    @Test
    void anOfferOfASnapshotDuringAPushIsAProtocolErrorNotAnInternalOne() throws Exception {
        Fixtures.Result r = pushThroughAFakeRelay("frame(b'C', strings(b'pull', b'8192', b'/x/.db.hotswap-0.pull', b'0', b'644'))\n");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: protocol error: the app offered a snapshot for a push;"), r.toString());
        assertEquals(List.of("new"), Fixtures.query(remote.local.resolve("new.sqlite3"), "SELECT name FROM items"));
        assertEquals(List.of(), Fixtures.leftovers(remote.local));
    }

    /** Pushes new.sqlite3 through a fake relay that says hello, then runs {@code says} (Python), then drains the client. */
    private Fixtures.Result pushThroughAFakeRelay(String says) throws Exception {
        remote = new RemoteSide("");
        Path relay = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay() + says + "t.join(5)\n");
        Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "new");
        return Fixtures.cli(remote.local, remote.env(), null,
                "cp", "--rsh", relay.toString(), "new.sqlite3", RemoteSide.HOST + ":db/production.sqlite3");
    }
}
