/*
 * A stand-in for LogicalDOC's sender (logicaldoc-core communication/EMailSender.java, protocol "smtp"): the same
 * Jakarta Mail properties, Session, Transport and connect calls, so its result for a case is what LogicalDOC would do.
 * The test oracle for outmail's verdict (tests/servers/standin.py runs it).
 *
 * Input (stdin): one case a line, URL-encoded like a query string (java.net.URLDecoder), keys:
 *   host, port, connectionSecurity (0..3), authEncrypted (true/false), username, password, sender, to (comma
 *   separated), subject, body, timeout (ms, default 5000), trustCa (optional: a PEM file added to the JVM's default
 *   trust store for this case, as if the admin had imported the CA into LogicalDOC's JVM), debug (true/false).
 * Argument: how many cases run at once (default 1); the results are printed in the input's order all the same.
 * Output (stdout): one JSON object a line per case, in order:
 *   {"ok": bool, "exception": class|null, "message": str|null, "chain": [{"class":..,"message":..}, ...],
 *    "reply": last server response|null, "transcript": Jakarta Mail's debug output (with debug=true) or ""}
 *
 * Everything between the two "LogicalDOC" markers below is EMailSender's code, quirks included (the smtps branch does
 * not set mail.smtps.ssl.trust, so the JVM's default trust store applies; mail.smtp.auth is set under the smtp
 * prefix only). The only additions are the connection/read timeouts, so a wrong protocol fails in seconds instead
 * of waiting for the server's own timeout.
 */

import jakarta.mail.Authenticator;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.PasswordAuthentication;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class LogicalDocSender {

    public static void main(String[] args) throws Exception {
        // args: [threads] (default 1): how many cases run at once. Consecutive cases with the same trustCa form a
        // batch: the JVM-wide default SSLContext is set once per batch, and changed only when no case is running.
        int threads = args.length > 0 ? Math.max(1, Integer.parseInt(args[0])) : 1;
        SSLContext jvmDefault = SSLContext.getDefault();
        Map<String, SSLContext> trusting = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        List<Map<String, String>> cases = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.isBlank())
                cases.add(parse(line));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            int i = 0;
            while (i < cases.size()) {
                String ca = cases.get(i).get("trustCa");
                int end = i;
                while (end < cases.size() && Objects.equals(cases.get(end).get("trustCa"), ca))
                    end++;
                SSLContext.setDefault(isEmpty(ca) ? jvmDefault
                        : trusting.computeIfAbsent(ca, LogicalDocSender::trusting));
                List<Future<String>> results = new ArrayList<>();
                for (Map<String, String> c : cases.subList(i, end))
                    results.add(pool.submit(() -> runCase(c)));
                for (Future<String> r : results) {
                    out.println(r.get());
                    out.flush();
                }
                i = end;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static String runCase(Map<String, String> c) {
        String host = c.get("host");
        int port = Integer.parseInt(c.get("port"));
        int connectionSecurity = Integer.parseInt(c.getOrDefault("connectionSecurity", "0"));
        boolean authEncrypted = Boolean.parseBoolean(c.getOrDefault("authEncrypted", "false"));
        String username = c.getOrDefault("username", "");
        String password = c.getOrDefault("password", "");
        String timeout = c.getOrDefault("timeout", "5000");
        ByteArrayOutputStream debug = new ByteArrayOutputStream();
        Transport transport = null;
        try {
            // ---- LogicalDOC (EMailSender, protocol smtp) ----
            Properties props = new Properties();
            if (!isEmpty(username))
                props.put("mail.smtp.auth", "true");
            if (authEncrypted) {
                props.put("mail.transport.protocol", "smtps");
                props.put("mail.smtps.host", host);
                props.put("mail.smtps.port", port);
                props.put("mail.smtps.ssl.protocols", "TLSv1.1 TLSv1.2");
                if (connectionSecurity == 1)
                    props.put("mail.smtps.starttls.enable", "true");
                if (connectionSecurity == 2)
                    props.put("mail.smtps.starttls.required", "true");
                if (connectionSecurity == 3)
                    props.put("mail.smtps.ssl.enable", "true");
            } else {
                props.put("mail.transport.protocol", "smtp");
                props.put("mail.smtp.host", host);
                props.put("mail.smtp.port", port);
                if (connectionSecurity == 1)
                    props.put("mail.smtp.starttls.enable", "true");
                if (connectionSecurity == 2)
                    props.put("mail.smtp.starttls.required", "true");
                if (connectionSecurity == 3)
                    props.put("mail.smtp.ssl.enable", "true");
            }
            props.put("mail.smtp.ssl.protocols", "TLSv1.1 TLSv1.2");
            props.put("mail.smtp.ssl.checkserveridentity", "false");
            props.put("mail.smtp.ssl.trust", "*");
            // ---- end of LogicalDOC's properties; the stand-in's only addition: ----
            for (String p : new String[] { "smtp", "smtps" }) {
                props.put("mail." + p + ".connectiontimeout", timeout);
                props.put("mail." + p + ".timeout", timeout);
            }
            // ---- LogicalDOC ----
            Session session;
            if (!isEmpty(username)) {
                final String u = username, pw = password;
                session = Session.getInstance(props, new Authenticator() {
                    @Override
                    protected PasswordAuthentication getPasswordAuthentication() {
                        return new PasswordAuthentication(u, pw);
                    }
                });
            } else {
                session = Session.getInstance(props);
            }
            if (Boolean.parseBoolean(c.getOrDefault("debug", "false"))) {
                session.setDebug(true);
                session.setDebugOut(new PrintStream(debug, true, "UTF-8"));
            }
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(c.getOrDefault("sender", "")));
            message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(c.getOrDefault("to", "")));
            message.setSubject(c.getOrDefault("subject", "Hello from LogicalDOC"), "UTF-8");
            message.setText(c.getOrDefault("body", "This is a test email from LogicalDOC"), "UTF-8");
            message.setSentDate(new Date());
            transport = authEncrypted ? session.getTransport("smtps") : session.getTransport("smtp");
            if (isEmpty(username))
                transport.connect(host, port, null, null);
            else
                transport.connect(host, port, username, password);
            transport.sendMessage(message, message.getAllRecipients());
            // ---- end of LogicalDOC ----
            return result(true, null, transport, debug);
        } catch (Throwable t) {
            return result(false, t, transport, debug);
        } finally {
            if (transport != null) {
                try {
                    transport.close();
                } catch (Throwable ignored) {
                    // closing after a failure may fail again; the first failure is the result
                }
            }
        }
    }

    /** A context whose trust store is the JVM's default cacerts plus the CA in `pemPath`. */
    static SSLContext trusting(String pemPath) {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            File cacerts = new File(System.getProperty("java.home"), "lib/security/cacerts");
            if (cacerts.isFile()) {
                try (InputStream is = new FileInputStream(cacerts)) {
                    ks.load(is, null);
                }
            } else {
                ks.load(null, null);
            }
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            int i = 0;
            try (InputStream is = new FileInputStream(pemPath)) {
                for (Certificate cert : cf.generateCertificates(is))
                    ks.setCertificateEntry("outmail-test-ca-" + (i++), cert);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new RuntimeException("cannot build a trust store with " + pemPath, e);
        }
    }

    static String result(boolean ok, Throwable t, Transport transport, ByteArrayOutputStream debug) {
        StringBuilder sb = new StringBuilder("{\"ok\":").append(ok);
        sb.append(",\"exception\":").append(t == null ? "null" : json(t.getClass().getName()));
        sb.append(",\"message\":").append(t == null ? "null" : json(t.getMessage()));
        sb.append(",\"chain\":[");
        List<Throwable> seen = new ArrayList<>();
        if (t != null)
            seen.add(t);
        Throwable next = t == null ? null : nested(t);
        boolean first = true;
        while (next != null && !seen.contains(next)) {
            seen.add(next);
            if (!first)
                sb.append(',');
            first = false;
            sb.append("{\"class\":").append(json(next.getClass().getName())).append(",\"message\":")
                    .append(json(next.getMessage())).append('}');
            next = nested(next);
        }
        sb.append("],\"reply\":");
        String reply = null;
        if (transport instanceof com.sun.mail.smtp.SMTPTransport)
            reply = ((com.sun.mail.smtp.SMTPTransport) transport).getLastServerResponse();
        sb.append(reply == null ? "null" : json(reply.strip()));
        sb.append(",\"transcript\":").append(json(debug.toString(StandardCharsets.UTF_8)));
        return sb.append('}').toString();
    }

    static Throwable nested(Throwable t) {
        if (t instanceof MessagingException && ((MessagingException) t).getNextException() != null)
            return ((MessagingException) t).getNextException();
        return t.getCause();
    }

    static Map<String, String> parse(String line) {
        Map<String, String> m = new HashMap<>();
        for (String pair : line.split("&")) {
            int eq = pair.indexOf('=');
            if (eq < 0)
                continue;
            m.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    static boolean isEmpty(String s) {
        return s == null || s.isEmpty();
    }

    static String json(String s) {
        if (s == null)
            return "null";
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
            case '"': sb.append("\\\""); break;
            case '\\': sb.append("\\\\"); break;
            case '\n': sb.append("\\n"); break;
            case '\r': sb.append("\\r"); break;
            case '\t': sb.append("\\t"); break;
            default:
                if (ch < 0x20)
                    sb.append(String.format("\\u%04x", (int) ch));
                else
                    sb.append(ch);
            }
        }
        return sb.append('"').toString();
    }
}
