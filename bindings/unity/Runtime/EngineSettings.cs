// The engine settings a trainer sends a game (docs/protocol.md, "Engine settings";
// RemoteVectorEnv.set_engine_settings), what ML-Agents calls the engine configuration side
// channel: the keys the trainer package defines (time scale, target frame rate, quality level)
// read into typed properties, and the whole JSON object for the game's own keys. WsEnv.Settings
// and EnvDriver.SettingsReceived hand them out; WsbridgeAcademy applies them to Unity. Read once
// per settings message (rare), never per step: parsing allocates.

using System;
using System.Globalization;
using System.Text;

namespace Wsbridge
{
    public sealed class EngineSettings
    {
        private EngineSettings(string json)
        {
            Json = json;
        }

        /// <summary>The settings as the trainer sent them: a JSON object ("{}" before any).</summary>
        public string Json { get; private set; }

        /// <summary>time_scale: how fast simulated time runs (Unity's Time.timeScale), a number &gt; 0; null if not sent.</summary>
        public double? TimeScale { get; private set; }

        /// <summary>target_frame_rate: frames per second to aim for, -1 for unlimited (Application.targetFrameRate); null if not sent.</summary>
        public int? TargetFrameRate { get; private set; }

        /// <summary>quality_level: the engine's quality preset, 0 for the lowest (QualitySettings.SetQualityLevel); null if not sent.</summary>
        public int? QualityLevel { get; private set; }

        /// <summary>The value of a top-level key as JSON text (e.g. "\"top\"", "[1, 2]"), null if the key is absent:
        /// a game's own settings.</summary>
        public string Raw(string key)
        {
            if (key == null) throw new ArgumentNullException("key");
            string found = null;
            Walk((name, start, end) =>
            {
                if (name == key) found = Json.Substring(start, end - start);
            });
            return found;
        }

        public override string ToString()
        {
            return Json;
        }

        /// <summary>Reads a settings object (what wsb_env_settings copies). Throws FormatException
        /// for text that is not a JSON object, or a known key of the wrong type.</summary>
        public static EngineSettings FromJson(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            var settings = new EngineSettings(json);
            settings.Walk((name, start, end) =>
            {
                string value = json.Substring(start, end - start);
                switch (name)
                {
                    case "time_scale": settings.TimeScale = Number(name, value); break;
                    case "target_frame_rate": settings.TargetFrameRate = Integer(name, value); break;
                    case "quality_level": settings.QualityLevel = Integer(name, value); break;
                }
            });
            return settings;
        }

        private static double Number(string name, string value)
        {
            double v;
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out v))
                throw new FormatException("engine setting " + name + " is not a number: " + value);
            return v;
        }

        private static int Integer(string name, string value)
        {
            double v = Number(name, value);
            if (v != Math.Floor(v) || v < int.MinValue || v > int.MaxValue)
                throw new FormatException("engine setting " + name + " is not an integer: " + value);
            return (int)v;
        }

        // Calls `each(key, valueStart, valueEnd)` for every key of the top-level object.
        private void Walk(Action<string, int, int> each)
        {
            string s = Json;
            int i = Space(s, 0);
            if (i >= s.Length || s[i] != '{') throw Bad("not a JSON object", i);
            i = Space(s, i + 1);
            if (i < s.Length && s[i] == '}') return;
            while (true)
            {
                if (i >= s.Length || s[i] != '"') throw Bad("expected a key", i);
                int keyEnd = SkipString(s, i);
                string key = Unescape(s, i + 1, keyEnd - 1);
                i = Space(s, keyEnd);
                if (i >= s.Length || s[i] != ':') throw Bad("expected ':'", i);
                int start = Space(s, i + 1);
                int end = SkipValue(s, start);
                each(key, start, end);
                i = Space(s, end);
                if (i < s.Length && s[i] == ',')
                {
                    i = Space(s, i + 1);
                    continue;
                }
                if (i < s.Length && s[i] == '}') return;
                throw Bad("expected ',' or '}'", i);
            }
        }

        private FormatException Bad(string what, int at)
        {
            return new FormatException("engine settings: " + what + " at character " + at + " of " + Json);
        }

        private static int Space(string s, int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
            return i;
        }

        // From an opening quote to just after the closing one.
        private int SkipString(string s, int i)
        {
            for (i++; i < s.Length; i++)
            {
                if (s[i] == '\\') i++;
                else if (s[i] == '"') return i + 1;
            }
            throw Bad("unterminated string", i);
        }

        // One value (string, number, literal, array or object): returns the index after it.
        private int SkipValue(string s, int i)
        {
            if (i >= s.Length) throw Bad("expected a value", i);
            if (s[i] == '"') return SkipString(s, i);
            if (s[i] == '{' || s[i] == '[')
            {
                int depth = 0;
                for (; i < s.Length; i++)
                {
                    char c = s[i];
                    if (c == '"') i = SkipString(s, i) - 1;
                    else if (c == '{' || c == '[') depth++;
                    else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
                }
                throw Bad("unterminated value", i);
            }
            int start = i;
            while (i < s.Length && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') i++;
            if (i == start) throw Bad("expected a value", i);
            return i;
        }

        private static string Unescape(string s, int start, int end)
        {
            if (s.IndexOf('\\', start, end - start) < 0) return s.Substring(start, end - start);
            var text = new StringBuilder(end - start);
            for (int i = start; i < end; i++)
            {
                char c = s[i];
                if (c != '\\' || i + 1 >= end)
                {
                    text.Append(c);
                    continue;
                }
                c = s[++i];
                switch (c)
                {
                    case 'n': text.Append('\n'); break;
                    case 't': text.Append('\t'); break;
                    case 'r': text.Append('\r'); break;
                    case 'b': text.Append('\b'); break;
                    case 'f': text.Append('\f'); break;
                    case 'u':
                        if (i + 4 < end) text.Append((char)int.Parse(s.Substring(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: text.Append(c); break; // \" \\ \/
                }
            }
            return text.ToString();
        }
    }
}
