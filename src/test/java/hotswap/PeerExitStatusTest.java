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
 * The client returns the exit status the peer sends as its own. Its checks that a success brought
 * a snapshot (a pull) or took the bytes (a push) test for 0 only, and the process's status is
 * that number modulo 256: a peer (a broken or hostile relay, a fake server) that ends with 256 makes
 * a pull that wrote nothing, a push that sent nothing and a status that printed nothing all exit 0.
 */
class PeerExitStatusTest {
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
}
