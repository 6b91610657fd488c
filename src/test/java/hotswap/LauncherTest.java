package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/hotswap}, the launcher users run: it finds the jar beside itself, passes the user's
 * arguments through untouched, whatever shell syntax they hold, maps the class-data archive that
 * make records beside the jar, and starts silently without it when this JDK refuses it.
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
        Path fakeHome = fakeJava();
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

    @Test
    void theLauncherMapsTheArchiveMakeRecorded() throws Exception {
        Path archive = archiveOf(Fixtures.jar());
        assertTrue(Files.isRegularFile(archive), "no " + archive + ": make could not record one with this JDK (see build/cds-train/app.log)");
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
        // An archive of this JDK for another jar: the one make recorded.
        Files.copy(archiveOf(Fixtures.jar()), archiveOf(jar), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(jar.resolveSibling("touched"), ""); // the copied jar differs in path and time
        Fixtures.Result stale = version(launcher);
        for (Fixtures.Result r : List.of(plain, refused, stale)) {
            assertEquals(0, r.exit(), r.toString());
            assertEquals(plain.out(), r.out());
            assertEquals("", r.stderr(), "the launcher printed on stderr");
        }
        assertTrue(plain.out().startsWith("hotswap "), plain.toString());
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

    /**
     * Installed as a link on the PATH ({@code ln -s /opt/hotswap/bin/hotswap /usr/local/bin/hotswap}),
     * the launcher still finds the jar beside the script the link leads to, through a chain of links,
     * relative ones too, from any directory.
     */
    @Test
    void throughASymbolicLinkTheLauncherFindsTheJarBesideTheScriptItLeadsTo() throws Exception {
        dir = Fixtures.tempDir();
        Path fakeHome = fakeJava();
        Path install = Files.createDirectories(dir.resolve("opt/hotswap"));
        Path jar = Files.copy(Fixtures.jar(), install.resolve("hotswap.jar"));
        Files.copy(LAUNCHER, install.resolve("hotswap"), StandardCopyOption.COPY_ATTRIBUTES);
        Path bin = Files.createDirectories(dir.resolve("usr/local/bin"));
        Path relative = Files.createSymbolicLink(bin.resolve("hotswap-relative"), Path.of("../../../opt/hotswap/hotswap"));
        Path chained = Files.createSymbolicLink(dir.resolve("hs"), relative);
        Path absolute = Files.createSymbolicLink(bin.resolve("hotswap"), install.resolve("hotswap"));
        for (Path link : List.of(absolute, relative, chained)) {
            Fixtures.Result r = fake(link, fakeHome, List.of("version"));
            assertEquals(0, r.exit(), link + ": " + r);
            List<String> argv = r.out().lines().toList();
            int at = argv.indexOf("-jar");
            assertTrue(at >= 0 && Files.isSameFile(jar, Path.of(argv.get(at + 1))), link + ": " + r); // the path may keep its ..
        }
    }

    /**
     * What stops the launcher before the client runs is one {@code ERROR:} line and exit 1, as any
     * failure: no JVM stack trace for a working directory that was removed, no shell's exit 127 for
     * a JAVA_HOME without java, no "Unable to access jarfile" for a HOTSWAP_JAR that is not there.
     */
    @Test
    void aRemovedWorkingDirectoryAWrongJavaHomeOrAWrongHotswapJarIsOneErrorLineAndExitOne() throws Exception {
        dir = Fixtures.tempDir();
        Path gone = Files.createDirectories(dir.resolve("gone"));
        String java17 = Path.of(Fixtures.java()).getParent().getParent().toString();
        List<List<String>> cases = List.of(
                List.of("cd '" + gone + "' && rmdir '" + gone + "' && exec env JAVA_HOME='" + java17 + "' '" + LAUNCHER + "' version",
                        "the current directory", "was removed"),
                List.of("exec env JAVA_HOME='" + dir.resolve("no-jdk") + "' '" + LAUNCHER + "' version", "JAVA_HOME", "bin/java"),
                List.of("exec env JAVA_HOME='" + java17 + "' HOTSWAP_JAR='" + dir.resolve("no.jar") + "' '" + LAUNCHER + "' version",
                        "HOTSWAP_JAR", "no.jar"));
        for (List<String> c : cases) {
            Fixtures.Result r = Fixtures.run(dir, Map.of(), null, List.of("sh", "-c", c.get(0)));
            String error = r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse("");
            assertEquals(1, r.exit(), c.get(0) + ": " + r);
            assertTrue(error.contains(c.get(1)) && error.contains(c.get(2)) && error.contains("nothing changed"), c.get(0) + ": " + r);
            assertFalse(r.stderr().contains("java.lang."), c.get(0) + ": " + r);
        }
    }

    /** A stand-in for java that prints its arguments, one a line; returns its JAVA_HOME. */
    private Path fakeJava() throws Exception {
        Path fakeHome = dir.resolve("jdk");
        Files.createDirectories(fakeHome.resolve("bin"));
        Path fake = fakeHome.resolve("bin/java");
        Files.writeString(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        fake.toFile().setExecutable(true);
        return fakeHome;
    }

    private Fixtures.Result fake(Path launcher, Path javaHome, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("env", "-u", "HOTSWAP_JAR", launcher.toString()));
        command.addAll(args);
        return Fixtures.run(dir, Map.of("JAVA_HOME", javaHome.toString()), null, command);
    }
}
