// Test helper: prints what java.util.Properties.load(InputStream) reads from each file given.
// Output per file: "FILE", then "ERR <message>" or one "<key hex>\t<value hex>" line per key (UTF-16 units, 4 hex
// digits each), then "END". Run with the source launcher: java PropsDump.java FILE...
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Properties;
import java.util.TreeSet;

public class PropsDump {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) b.append(String.format("%04x", (int) s.charAt(i)));
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String name : args) {
            out.append("FILE\n");
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(name)) {
                p.load(in);
                for (String k : new TreeSet<>(p.stringPropertyNames()))
                    out.append(hex(k)).append('\t').append(hex(p.getProperty(k))).append('\n');
            } catch (IllegalArgumentException e) {
                out.append("ERR ").append(e.getMessage()).append('\n');
            }
            out.append("END\n");
        }
        System.out.print(out);
    }
}
