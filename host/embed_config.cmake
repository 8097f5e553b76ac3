# Writes INPUT's text into OUTPUT as relais::embedded_default_config().
file(READ ${INPUT} content)
set(delimiter "relais_yaml")
file(WRITE ${OUTPUT} "#include <string>\nnamespace relais {\nconst std::string &embedded_default_config() {\n    static const std::string text = R\"${delimiter}(${content})${delimiter}\";\n    return text;\n}\n} // namespace relais\n")
