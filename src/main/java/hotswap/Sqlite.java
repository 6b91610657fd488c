package hotswap;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Opens SQLite connections through whichever JDBC driver answers {@code jdbc:sqlite:} (sqlite-jdbc
 * on the app's classpath). Only java.sql types are used, so no sqlite-jdbc class is needed to
 * compile hotswap or to run its client.
 */
final class Sqlite {
    private Sqlite() {
    }

    static String url(Path file) {
        return "jdbc:sqlite:" + file;
    }

    /** Opens {@code file} read-only; a missing file is an error, not a new empty database. */
    static Connection openReadOnly(Path file) throws SQLException {
        Properties p = new Properties();
        p.setProperty("open_mode", "1"); // SQLITE_OPEN_READONLY
        return DriverManager.getConnection(url(file), p);
    }

    /** Opens {@code file} read-only, waiting for another connection's lock at most {@code busyMillis} per statement. */
    static Connection openReadOnly(Path file, long busyMillis) throws SQLException {
        Properties p = new Properties();
        p.setProperty("open_mode", "1"); // SQLITE_OPEN_READONLY
        p.setProperty("busy_timeout", Long.toString(Math.min(busyMillis, Integer.MAX_VALUE)));
        return DriverManager.getConnection(url(file), p);
    }

    static Connection open(Path file) throws SQLException {
        return DriverManager.getConnection(url(file));
    }

    /** Runs a query and returns the first column of every row as text. */
    static List<String> column(Connection c, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                rows.add(r.getString(1));
            }
        }
        return rows;
    }

    /** Runs a query and returns its first row, every column as text. */
    static List<String> row(Connection c, String sql) throws SQLException {
        List<String> row = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            if (r.next()) {
                for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
                    row.add(r.getString(i));
                }
            }
        }
        return row;
    }

    static String journalMode(Connection c) throws SQLException {
        return column(c, "PRAGMA journal_mode").get(0);
    }

    /** Fails if the driver is missing, with what to do about it. */
    static void requireDriver() {
        try {
            DriverManager.getDriver("jdbc:sqlite:");
        } catch (SQLException e) {
            throw new IllegalStateException("no JDBC driver for jdbc:sqlite: on the classpath; "
                    + "add org.xerial:sqlite-jdbc to the app's classpath", e);
        }
    }
}
