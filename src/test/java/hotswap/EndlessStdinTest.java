package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A push from standard input has no size, and the app checks the header only once the stream has
 * ended. A stream that is plainly no database from its first bytes and never ends (a device, /dev/zero,
 * `yes`, the wrong command in a pipe) is written into a temp file beside the live database until that
 * disk is full, where the live app's own writes then fail.
 */
class EndlessStdinTest extends AppAndClientTest {
    @Test
    void anEndlessStreamThatIsNoDatabaseFromItsFirstBytesIsRefusedAtOnce() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", "-", app.db.toString())
                .directory(client.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/zero")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(client.resolve("err.txt").toFile());
        pb.environment().putAll(app.env());
        Process p = pb.start();
        boolean ended = p.waitFor(20, TimeUnit.SECONDS);
        long leftBeside = Files.list(app.db.getParent()).filter(f -> f.getFileName().toString().contains(".hotswap-"))
                .mapToLong(f -> f.toFile().length()).sum();
        if (!ended) {
            p.destroyForcibly().waitFor();
        }
        String stderr = Files.readString(client.resolve("err.txt"), StandardCharsets.UTF_8);
        assertTrue(ended, "a push of /dev/zero was still writing after 20 s, " + leftBeside + " bytes beside the live database");
        assertEquals(1, p.exitValue(), stderr);
        assertTrue(stderr.contains("not a SQLite database"), stderr);
        Thread.sleep(500);
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(app.db, "SELECT name FROM items"));
    }
}
