// The UI's languages: i18next with one JSON file per language. `t` reads the
// current language from Svelte state, so every string re-renders when the
// guest picks another language.
import i18next from "i18next";
import en from "../i18n/en.json";
import pl from "../i18n/pl.json";
import uk from "../i18n/uk.json";
import ru from "../i18n/ru.json";

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "pl", name: "Polski" },
  { code: "uk", name: "Українська" },
  { code: "ru", name: "Русский" },
] as const;

export type Language = (typeof LANGUAGES)[number]["code"];

/** A language's strings: nested objects of strings. */
export type Messages = { [key: string]: string | Messages };

export const resources: Record<Language, Messages> = { en, pl, uk, ru };

const current = $state({ lang: "en" as Language });

void i18next.init({
  lng: "en",
  fallbackLng: "en",
  initAsync: false,
  resources: Object.fromEntries(Object.entries(resources).map(([k, v]) => [k, { translation: v }])),
  // Svelte escapes what it renders.
  interpolation: { escapeValue: false },
  returnNull: false,
  showSupportNotice: false,
});

export function t(key: string, options?: Record<string, unknown>): string {
  // Reading the state makes callers re-run when the language changes.
  void current.lang;
  return i18next.t(key, options);
}

export function language(): Language {
  return current.lang;
}

export function setLanguage(code: Language): void {
  void i18next.changeLanguage(code);
  current.lang = code;
  if (typeof document !== "undefined") document.documentElement.lang = code;
}
