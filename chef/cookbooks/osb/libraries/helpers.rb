require 'json'
require 'mixlib/shellout'

module OsbCookbook
  # Reads secrets by reference at converge time. A reference is 'ssm:/<parameter name>'
  # or 'secretsmanager:<secret id>'; values are returned to the caller and never logged.
  module Secrets
    module_function

    REFERENCE = %r{\A(ssm:/[A-Za-z0-9_./-]+|secretsmanager:[A-Za-z0-9/_+=.@-]+)\z}.freeze

    def command_for(reference)
      raise ArgumentError, "invalid secret reference #{reference.inspect}; use ssm:/<name> or secretsmanager:<id>" unless REFERENCE.match?(reference)

      if reference.start_with?('ssm:')
        %W(aws ssm get-parameter --with-decryption --name #{reference.sub('ssm:', '')} --query Parameter.Value --output text)
      else
        %W(aws secretsmanager get-secret-value --secret-id #{reference.sub('secretsmanager:', '')} --query SecretString --output text)
      end
    end

    def fetch(reference)
      command = Mixlib::ShellOut.new(*command_for(reference), timeout: 60)
      command.run_command
      raise "reading secret #{reference} failed (exit #{command.exitstatus}): #{command.stderr.strip}" if command.error?

      command.stdout.chomp
    end
  end

  module Helpers
    def osb_artifact_path(file)
      ::File.join(Chef::Config[:file_cache_path], 'osb-artifacts', file)
    end
  end
end
