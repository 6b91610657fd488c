package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/hotswap}, the launcher users run: it finds the jar beside itself and passes the
 * user's arguments through untouched, whatever shell syntax they hold.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("bin/hotswap").toAbsolutePath();

    private Path dir;

    @AfterEach
    void tearDown() {
        if (dir != null) {
            Fixtures.deleteTree(dir);
        }
    }

    @Test
    void theArgumentsReachTheClientAsGiven() throws Exception {
        dir = Fixtures.tempDir();
        // A stand-in for java that prints its arguments, one a line.
        Path fakeHome = dir.resolve("jdk");
        Files.createDirectories(fakeHome.resolve("bin"));
        Path fake = fakeHome.resolve("bin/java");
        Files.writeString(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        fake.toFile().setExecutable(true);
        Path jar = Files.copy(Fixtures.jar(), dir.resolve("hotswap.jar"));
        Path launcher = Files.copy(LAUNCHER, dir.resolve("hotswap"), StandardCopyOption.COPY_ATTRIBUTES);
        List<String> args = List.of("cp", "a b.sqlite3", "$HOME;`x`'\"*", "--keep-previous");
        Fixtures.Result r = fake(launcher, fakeHome, args);
        List<String> argv = r.out().lines().toList();
        assertEquals(List.of("-jar", jar.toString()), argv.subList(argv.size() - args.size() - 2, argv.size() - args.size()), r.toString());
        assertEquals(args, argv.subList(argv.size() - args.size(), argv.size()), r.toString());
    }

    private Fixtures.Result fake(Path launcher, Path javaHome, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("env", "-u", "HOTSWAP_JAR", launcher.toString()));
        command.addAll(args);
        return Fixtures.run(dir, Map.of("JAVA_HOME", javaHome.toString()), null, command);
    }
}
