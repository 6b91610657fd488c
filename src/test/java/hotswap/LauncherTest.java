package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/hotswap}, the launcher users run: it passes the user's arguments through untouched,
 * maps the class-data archive that make records beside the jar, and starts
 * silently without it when this JDK refuses it.
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
    void theLauncherMapsTheArchiveMakeRecorded() throws Exception {
        Path archive = archiveOf(Fixtures.jar());
        assumeTrue(Files.isRegularFile(archive), "no " + archive + ": make could not record one with this JDK (see build/cds-train/app.log)");
        dir = Fixtures.tempDir();
        Fixtures.Result r = Fixtures.run(dir, Map.of("HOTSWAP_JAR", Fixtures.jar().toString(), "JAVA_HOME", javaHome(),
                "JAVA_TOOL_OPTIONS", "-Xlog:class+load:stdout"), null, List.of(LAUNCHER.toString(), "version"));
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("hotswap.cli.Main source: shared objects file"), "hotswap.cli.Main was not mapped from " + archive
                + ":\n" + r.out().lines().filter(l -> l.contains("hotswap.")).toList());
    }

    @Test
    void anArchiveThisJdkRefusesIsSkippedWithoutAWord() throws Exception {
        dir = Fixtures.tempDir();
        Path jar = Files.copy(Fixtures.jar(), dir.resolve("hotswap.jar"));
        Path launcher = Files.copy(LAUNCHER, dir.resolve("hotswap"), StandardCopyOption.COPY_ATTRIBUTES);
        Fixtures.Result plain = version(launcher);
        Files.write(archiveOf(jar), "not an archive".getBytes());
        Fixtures.Result refused = version(launcher);
        // An archive of this JDK for another jar: the one make recorded, when there is one.
        Path recorded = archiveOf(Fixtures.jar());
        Fixtures.Result stale = null;
        if (Files.isRegularFile(recorded)) {
            Files.copy(recorded, archiveOf(jar), StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(jar.resolveSibling("touched"), ""); // the copied jar differs in path and time
            stale = version(launcher);
        }
        for (Fixtures.Result r : stale == null ? List.of(plain, refused) : List.of(plain, refused, stale)) {
            assertEquals(0, r.exit(), r.toString());
            assertEquals(plain.out(), r.out());
            assertEquals("", r.stderr(), "the launcher printed on stderr");
        }
        assertTrue(plain.out().startsWith("hotswap "), plain.toString());
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
        assertTrue(argv.stream().noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")), "no archive beside the jar, none mapped: " + argv);
        Files.writeString(archiveOf(jar), "");
        argv = fake(launcher, fakeHome, args).out().lines().toList();
        assertTrue(argv.contains("-XX:SharedArchiveFile=" + archiveOf(jar)), argv.toString());
        assertEquals(args, argv.subList(argv.size() - args.size(), argv.size()), argv.toString());
    }

    private Fixtures.Result fake(Path launcher, Path javaHome, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("env", "-u", "HOTSWAP_JAR", launcher.toString()));
        command.addAll(args);
        return Fixtures.run(dir, Map.of("JAVA_HOME", javaHome.toString()), null, command);
    }

    private Fixtures.Result version(Path launcher) throws Exception {
        // No HOTSWAP_JAR: the launcher finds the jar beside itself, and the archive beside the jar.
        return Fixtures.run(dir, Map.of("JAVA_HOME", javaHome()), null, List.of("env", "-u", "HOTSWAP_JAR", launcher.toString(), "version"));
    }

    private static Path archiveOf(Path jar) {
        String name = jar.getFileName().toString();
        return jar.resolveSibling(name.substring(0, name.length() - ".jar".length()) + ".jsa");
    }

    private static String javaHome() {
        return System.getProperty("java.home");
    }
}
