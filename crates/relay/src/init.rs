//! `sealtip-relay init`: a relay configuration with a demo agency.
//!
//! Writes, in the chosen folder (refusing to overwrite anything):
//! - `relay.toml`: storage, limits, proof of work, and the `demo` agency, with
//!   its recipient and the SHA-256 of its token, never the token itself;
//! - `agency.key`: the demo agency's identity, in age's format (for
//!   `sealtip open` and `age -d -i`). The relay never reads it;
//! - `agency.pub`: its recipient (`age1…`);
//! - `agency.token`: its inbox token (for `sealtip pull --token-file`).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sealtip_envelope::{Identity, IdentityFile};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::time;

/// The files `init` wrote.
#[derive(Debug)]
pub struct Initialized {
    /// `relay.toml`.
    pub config: PathBuf,
    /// The demo agency's identity.
    pub key: PathBuf,
    /// The demo agency's recipient.
    pub recipient: String,
    /// The demo agency's inbox token file.
    pub token: PathBuf,
}

/// Writes a configuration and the demo agency into `dir`.
pub fn init(dir: &Path) -> anyhow::Result<Initialized> {
    let config = dir.join("relay.toml");
    let key = dir.join("agency.key");
    let public = dir.join("agency.pub");
    let token_file = dir.join("agency.token");
    for path in [&config, &key, &public, &token_file] {
        if path.exists() {
            bail!("{} already exists; init never overwrites", path.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let identity = Identity::generate().context("the system random generator failed")?;
    let recipient = identity.recipient().to_string();
    let token = Zeroizing::new(random_hex()?);
    let token_hash = hex::encode(Sha256::digest(token.as_bytes()));
    let secret = Zeroizing::new(random_hex()?);
    let prefix = dir_prefix(dir);
    let text = Zeroizing::new(
        TEMPLATE
            .replace("{storage}", STORAGE)
            .replace("{prefix}", &prefix)
            .replace("{secret}", &secret)
            .replace("{recipient}", &recipient)
            .replace("{token_hash}", &token_hash),
    );
    // Check what we write parses, before writing anything.
    crate::Config::check(toml::from_str(&text).context("the template is not valid")?)
        .context("the template is not valid")?;

    let created = time::rfc3339(time::now());
    write_new(
        &key,
        IdentityFile::to_text(&identity, &created).as_bytes(),
        true,
    )?;
    write_new(&public, format!("{recipient}\n").as_bytes(), false)?;
    write_new(
        &token_file,
        format!("{}\n", token.as_str()).as_bytes(),
        true,
    )?;
    write_new(&config, text.as_bytes(), true)?;
    Ok(Initialized {
        config,
        key,
        recipient,
        token: token_file,
    })
}

fn random_hex() -> anyhow::Result<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).context("the system random generator failed")?;
    Ok(hex::encode(bytes.as_ref()))
}

/// The folder as a prefix for paths in `relay.toml` (relative to where the relay starts).
fn dir_prefix(dir: &Path) -> String {
    let text = dir.to_string_lossy().replace('\\', "/");
    let text = text.trim_end_matches('/');
    if text.is_empty() || text == "." {
        String::new()
    } else {
        format!("{text}/")
    }
}

fn write_new(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// The storage lines of `relay.toml`, for a relay built with SQLite.
#[cfg(feature = "sqlite")]
const STORAGE: &str = r#"# Metadata in SQLite, sealed blobs as files in `blobs`. To run several relays
# on one database instead: storage = "postgres://USER:PASSWORD@HOST:5432/DB"
# and no `blobs` line (see the README).
storage = "sqlite://{prefix}relay.db"
blobs = "{prefix}blobs"
"#;

/// The storage lines of `relay.toml`, for a relay built without SQLite: a
/// PostgreSQL database for the operator to name.
#[cfg(not(feature = "sqlite"))]
const STORAGE: &str = r#"# Everything in PostgreSQL, shared by any number of relays (see the README).
# This relay was built without SQLite: name your database here.
storage = "postgres://sealtip@localhost:5432/sealtip"
"#;

const TEMPLATE: &str = r#"# sealtip-relay configuration. Relative paths are relative to the folder
# the relay is started from.

{storage}# The built web client (cargo xtask run builds it).
dist = "dist"
# Set to true when clients reach the relay over HTTPS (adds Strict-Transport-Security).
behind_tls = false
# Signs proof-of-work challenges. Anyone holding it can skip the work.
challenge_secret = "{secret}"

[limits]
max_upload_bytes = 268435456      # 256 MiB
max_items_per_agency = 10000
max_replies_per_mailbox = 100
# Days a reply to a tipster is kept; older replies are deleted with their bytes.
reply_retention_days = 90
max_concurrent_uploads = 64
max_connections = 1024
max_header_bytes = 16384
header_timeout_secs = 10
upload_idle_secs = 30
upload_total_secs = 3600
# Upload sessions (a large tip sent in parts, resumable): how many may be open
# at once, and how long one lives after its last part (rounded up to the hour).
max_open_uploads = 64
upload_session_secs = 86400
# Memory for parts of upload sessions being received (PostgreSQL storage keeps
# each part in memory until it is whole, so that no database connection waits
# on a slow network): a part takes its length, and one that does not fit is
# answered 429, try again shortly. At least 16 MiB, the largest part.
part_buffer_bytes = 268435456     # 256 MiB

[pow]
difficulty = 18                   # leading zero bits: about 260,000 hashes
challenge_lifetime_secs = 600

[[agencies]]
id = "demo"
name = "Demo agency"
default = true
# The agency's age recipients; its identity is in agency.key, which the relay never reads.
recipients = ["{recipient}"]
# SHA-256 (hex) of each inbox token (agency.token holds the token).
token_hashes = ["{token_hash}"]
# Form languages, the first being the default: a label missing in the page's
# language is shown in it. Tags as the page uses them (zh-Hans, not zh).
languages = ["en", "es", "fr", "pt", "ar", "zh-Hans", "vi", "ru", "tl", "ht"]
# Origins allowed to embed the form (e.g. "https://news.example"); none by default.
embed_origins = []
exit_url = "https://www.wikipedia.org/"

[agencies.emergency]
en = "In danger right now? Call 112."
es = "¿En peligro ahora mismo? Llame al 112."
fr = "En danger maintenant ? Appelez le 112."
pt = "Em perigo agora? Ligue para o 112."
ar = "في خطر الآن؟ اتصل بالرقم 112."
zh-Hans = "现在有危险吗？请拨打 112。"
vi = "Bạn đang gặp nguy hiểm? Hãy gọi 112."
ru = "Вы в опасности прямо сейчас? Звоните 112."
tl = "Nasa panganib ka ba ngayon? Tumawag sa 112."
ht = "Ou an danje kounye a? Rele 112."

[agencies.form]
id = "demo-1"

[[agencies.form.questions]]
id = "what"
kind = "long_text"
required = true
[agencies.form.questions.label]
en = "What happened?"
es = "¿Qué ocurrió?"
fr = "Que s'est-il passé ?"
pt = "O que aconteceu?"
ar = "ماذا حدث؟"
zh-Hans = "发生了什么？"
vi = "Chuyện gì đã xảy ra?"
ru = "Что произошло?"
tl = "Ano ang nangyari?"
ht = "Kisa ki te pase?"
[agencies.form.questions.help]
en = "Say what you saw or know, in your own words."
es = "Cuente lo que vio o sabe, con sus propias palabras."
fr = "Dites ce que vous avez vu ou savez, avec vos mots."
pt = "Conte o que você viu ou sabe, com suas próprias palavras."
ar = "اذكر ما رأيته أو ما تعرفه بكلماتك."
zh-Hans = "用您自己的话，说说您看到或知道的事情。"
vi = "Hãy kể những gì bạn đã thấy hoặc biết, bằng lời của bạn."
ru = "Расскажите своими словами, что вы видели или знаете."
tl = "Sabihin ang nakita o alam mo, sa sarili mong salita."
ht = "Di sa ou te wè oswa sa ou konnen, ak pwòp mo pa ou."

[[agencies.form.questions]]
id = "topic"
kind = "choice"
[agencies.form.questions.label]
en = "What is it about?"
es = "¿De qué se trata?"
fr = "De quoi s'agit-il ?"
pt = "Do que se trata?"
ar = "بماذا يتعلق الأمر؟"
zh-Hans = "这件事和什么有关？"
vi = "Việc này liên quan đến điều gì?"
ru = "О чём идёт речь?"
tl = "Tungkol saan ito?"
ht = "Sa gen pou wè ak kisa?"

[[agencies.form.questions.choices]]
id = "forced-work"
[agencies.form.questions.choices.label]
en = "Forced work or unpaid work"
es = "Trabajo forzado o sin paga"
fr = "Travail forcé ou non payé"
pt = "Trabalho forçado ou sem pagamento"
ar = "عمل قسري أو عمل بلا أجر"
zh-Hans = "强迫劳动或无偿劳动"
vi = "Lao động cưỡng bức hoặc không được trả lương"
ru = "Принудительный или неоплачиваемый труд"
tl = "Sapilitang trabaho o trabahong walang bayad"
ht = "Travay fòse oswa travay san peye"

[[agencies.form.questions.choices]]
id = "sexual-exploitation"
[agencies.form.questions.choices.label]
en = "Sexual exploitation"
es = "Explotación sexual"
fr = "Exploitation sexuelle"
pt = "Exploração sexual"
ar = "استغلال جنسي"
zh-Hans = "性剥削"
vi = "Bóc lột tình dục"
ru = "Сексуальная эксплуатация"
tl = "Sekswal na pananamantala"
ht = "Eksplwatasyon seksyèl"

[[agencies.form.questions.choices]]
id = "held"
[agencies.form.questions.choices.label]
en = "Someone held or not free to leave"
es = "Alguien retenido o sin libertad para irse"
fr = "Quelqu'un retenu ou pas libre de partir"
pt = "Alguém preso ou sem liberdade para ir embora"
ar = "شخص محتجز أو غير حر في المغادرة"
zh-Hans = "有人被关押或不能自由离开"
vi = "Có người bị giữ lại hoặc không được tự do rời đi"
ru = "Кого-то удерживают или не отпускают"
tl = "May taong ikinulong o hindi malayang umalis"
ht = "Yon moun yo kenbe oswa ki pa lib pou l ale"

[[agencies.form.questions.choices]]
id = "child"
[agencies.form.questions.choices.label]
en = "A child may be involved"
es = "Puede haber un niño afectado"
fr = "Un enfant est peut-être concerné"
pt = "Uma criança pode estar envolvida"
ar = "قد يكون هناك طفل معنيّ"
zh-Hans = "可能涉及儿童"
vi = "Có thể có trẻ em liên quan"
ru = "Возможно, это касается ребёнка"
tl = "Maaaring may batang sangkot"
ht = "Petèt gen yon timoun ladan l"

[[agencies.form.questions.choices]]
id = "other"
[agencies.form.questions.choices.label]
en = "Something else"
es = "Otra cosa"
fr = "Autre chose"
pt = "Outra coisa"
ar = "شيء آخر"
zh-Hans = "其他情况"
vi = "Việc khác"
ru = "Другое"
tl = "Iba pa"
ht = "Yon lòt bagay"

[[agencies.form.questions]]
id = "when"
kind = "date"
[agencies.form.questions.label]
en = "When did it happen?"
es = "¿Cuándo ocurrió?"
fr = "Quand cela s'est-il passé ?"
pt = "Quando aconteceu?"
ar = "متى حدث ذلك؟"
zh-Hans = "是什么时候发生的？"
vi = "Chuyện xảy ra khi nào?"
ru = "Когда это произошло?"
tl = "Kailan ito nangyari?"
ht = "Kilè sa te pase?"

[[agencies.form.questions]]
id = "where"
kind = "place"
[agencies.form.questions.label]
en = "Where did it happen?"
es = "¿Dónde ocurrió?"
fr = "Où cela s'est-il passé ?"
pt = "Onde aconteceu?"
ar = "أين حدث ذلك؟"
zh-Hans = "是在哪里发生的？"
vi = "Chuyện xảy ra ở đâu?"
ru = "Где это произошло?"
tl = "Saan ito nangyari?"
ht = "Ki kote sa te pase?"

[[agencies.form.questions]]
id = "who"
kind = "text"
[agencies.form.questions.label]
en = "Who is involved?"
es = "¿Quién está implicado?"
fr = "Qui est impliqué ?"
pt = "Quem está envolvido?"
ar = "من هم الأشخاص المعنيون؟"
zh-Hans = "涉及哪些人？"
vi = "Những ai có liên quan?"
ru = "Кто в этом участвует?"
tl = "Sino-sino ang sangkot?"
ht = "Ki moun ki mele ladan l?"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's languages: the names of its Fluent files (`www/i18n/<tag>.ftl`).
    fn page_languages() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/i18n");
        let mut tags: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| entry.unwrap().file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".ftl").map(str::to_string))
            .collect();
        tags.sort();
        tags
    }

    #[test]
    fn the_demo_form_speaks_every_language_of_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let done = init(&dir.path().join("data")).unwrap();
        let text = std::fs::read_to_string(&done.config).unwrap();
        let config: crate::Config = toml::from_str(&text).unwrap();
        let demo = &config.agencies[0];
        let page = page_languages();
        assert!(page.len() >= 10, "{page:?}");
        let mut languages = demo.languages.clone();
        languages.sort();
        assert_eq!(languages, page);
        assert_eq!(demo.languages[0], "en");
        let mut texts = vec![("emergency".to_string(), &demo.emergency)];
        for q in &demo.form.questions {
            texts.push((q.id.clone(), &q.label));
            if !q.help.is_empty() {
                texts.push((format!("{} help", q.id), &q.help));
            }
            for c in &q.choices {
                texts.push((c.id.clone(), &c.label));
            }
        }
        assert!(texts.len() > 10);
        for (what, localized) in texts {
            let keys: Vec<&String> = localized.keys().collect();
            assert_eq!(keys.len(), page.len(), "{what}: {keys:?}");
            for tag in &page {
                let text = localized.get(tag).map(String::as_str).unwrap_or_default();
                assert!(!text.trim().is_empty(), "{what} has no {tag} text");
                // Only English says it in English.
                if tag != "en" {
                    assert_ne!(
                        Some(text),
                        localized.get("en").map(String::as_str),
                        "{what} {tag}"
                    );
                }
            }
        }
        config.check().unwrap();
    }
}
